output "bucket_names" {
  description = "Data buckets, by Glacier bucket name."
  value = {
    data-lake = aws_s3_bucket.data_lake.bucket
  }
}

output "artifacts_bucket" {
  description = "Code and task outputs."
  value       = aws_s3_bucket.glacier_artifacts.bucket
}

output "function_arns" {
  description = "Lambda functions, by executor name."
  value = {
    local  = aws_lambda_function.local.arn
    lambda = aws_lambda_function.lambda.arn
  }
}

output "state_machine_arns" {
  description = "Step Functions state machines, by pipeline name: start an execution to run it."
  value = {
    ml_inference = aws_sfn_state_machine.ml_inference.arn
  }
}
