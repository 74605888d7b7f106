"""save_session(): the metadata transaction, then the Parquet file, then the status."""
