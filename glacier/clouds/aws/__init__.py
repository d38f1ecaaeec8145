"""Amazon Web Services: S3 storage and upload, the Terraform renderer, re-targeting facts."""
