; Inno Setup script for the Windows installer of Laptrace.
; UNTESTED on the development machine (Linux): it is built and self-tested by
; .github/workflows/release.yml on a Windows runner. packaging/build.py runs it as
;   ISCC /DAppVersion=x.y.z /DSourceDir=<onedir> /DOutputDir=<dist> /DIconFile=<ico> laptrace.iss
; File associations: Laptrace owns .vbo, .mf4, .mdf, .xrk, .xrz, .drk and .ld (logger
; formats), and is offered in
; "Open with" for .csv (RaceChrono/AiM/MoTeC exports share it with spreadsheets) and .txt
; (Bosch WinDarab exports). Kept in step with packaging/doctypes.py by
; tests/packaging/test_spec.py. Uninstalling removes only what was installed: the
; catalogue and telemetry under %LOCALAPPDATA%\Laptrace are the user's and stay.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\laptrace"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\build\icons\laptrace.ico"
#endif
#define AppExe "laptrace.exe"

[Setup]
AppId={{6B1E0C52-7F3A-4D8E-9A61-2C4F8B7D3E15}
AppName=Laptrace
AppVersion={#AppVersion}
AppPublisher=Laptrace
DefaultDirName={autopf}\Laptrace
DefaultGroupName=Laptrace
DisableProgramGroupPage=yes
OutputDir={#OutputDir}
OutputBaseFilename=laptrace-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Per-user install by default (no admin rights needed); an admin may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Laptrace"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\Laptrace"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; --- .vbo: Racelogic VBOX data (Laptrace is the default app) ---
Root: HKA; Subkey: "Software\Classes\.vbo"; ValueType: string; ValueName: ""; ValueData: "Laptrace.vbo"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.vbo\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.vbo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Laptrace.vbo"; ValueType: string; ValueName: ""; ValueData: "Racelogic VBOX data"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Laptrace.vbo\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Laptrace.vbo\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; --- .mf4 / .mdf: ASAM MDF measurement data (Laptrace is the default app) ---
Root: HKA; Subkey: "Software\Classes\.mf4"; ValueType: string; ValueName: ""; ValueData: "Laptrace.mdf"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mf4\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.mdf"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mdf"; ValueType: string; ValueName: ""; ValueData: "Laptrace.mdf"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mdf\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.mdf"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Laptrace.mdf"; ValueType: string; ValueName: ""; ValueData: "ASAM MDF measurement data"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Laptrace.mdf\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Laptrace.mdf\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; --- .xrk / .xrz / .drk: AiM data logger log (Laptrace is the default app) ---
Root: HKA; Subkey: "Software\Classes\.xrk"; ValueType: string; ValueName: ""; ValueData: "Laptrace.aim"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.xrk\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.aim"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.xrz"; ValueType: string; ValueName: ""; ValueData: "Laptrace.aim"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.xrz\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.aim"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.drk"; ValueType: string; ValueName: ""; ValueData: "Laptrace.aim"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.drk\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.aim"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Laptrace.aim"; ValueType: string; ValueName: ""; ValueData: "AiM data logger log"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Laptrace.aim\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Laptrace.aim\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; --- .ld: MoTeC data logger log (Laptrace is the default app) ---
Root: HKA; Subkey: "Software\Classes\.ld"; ValueType: string; ValueName: ""; ValueData: "Laptrace.motec"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.ld\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.motec"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Laptrace.motec"; ValueType: string; ValueName: ""; ValueData: "MoTeC data logger log"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Laptrace.motec\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Laptrace.motec\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; --- .csv / .txt: only offered in "Open with" ---
Root: HKA; Subkey: "Software\Classes\.csv\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.export"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.txt\OpenWithProgids"; ValueType: string; ValueName: "Laptrace.export"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Laptrace.export"; ValueType: string; ValueName: ""; ValueData: "Logger export (RaceChrono, AiM, MoTeC, Bosch WinDarab)"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Laptrace.export\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Laptrace.export\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; --- the application itself, for "Open with" lists ---
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "Laptrace"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".vbo"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".mf4"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".mdf"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".xrk"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".xrz"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".drk"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".ld"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".csv"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".txt"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,Laptrace}"; Flags: nowait postinstall skipifsilent
