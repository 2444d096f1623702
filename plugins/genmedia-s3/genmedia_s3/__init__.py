"""genmedia-s3: a third-party genmedia output sink writing results to S3-compatible storage."""

__version__ = "0.1.0"
