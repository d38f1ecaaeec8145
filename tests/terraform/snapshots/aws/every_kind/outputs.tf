output "bucket_names" {
  description = "Data buckets, by Glacier bucket name."
  value = {
    orders-raw = aws_s3_bucket.orders_raw.bucket
    crm        = aws_s3_bucket.crm.bucket
    reports    = aws_s3_bucket.reports.bucket
  }
}

output "artifacts_bucket" {
  description = "Code and task outputs."
  value       = aws_s3_bucket.glacier_artifacts.bucket
}

output "function_arns" {
  description = "Lambda functions, by executor name."
  value = {
    local = aws_lambda_function.local.arn
    fn    = aws_lambda_function.fn.arn
  }
}

output "state_machine_arns" {
  description = "Step Functions state machines, by pipeline name: start an execution to run it."
  value = {
    every_kind = aws_sfn_state_machine.every_kind.arn
  }
}
