output "bucket_names" {
  description = "Data buckets, by Glacier bucket name."
  value = {
    data-lake = google_storage_bucket.data_lake.name
  }
}

output "artifacts_bucket" {
  description = "Code and task outputs."
  value       = google_storage_bucket.glacier_artifacts.name
}

output "function_urls" {
  description = "Cloud Functions, by executor name."
  value = {
    local  = google_cloudfunctions2_function.local.url
    lambda = google_cloudfunctions2_function.lambda.url
  }
}

output "workflow_ids" {
  description = "Workflows, by pipeline name: execute one to run the pipeline."
  value = {
    ml_inference = google_workflows_workflow.ml_inference.id
  }
}
