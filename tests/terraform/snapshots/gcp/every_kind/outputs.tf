output "bucket_names" {
  description = "Data buckets, by Glacier bucket name."
  value = {
    orders-raw = google_storage_bucket.orders_raw.name
    crm        = google_storage_bucket.crm.name
    reports    = google_storage_bucket.reports.name
  }
}

output "artifacts_bucket" {
  description = "Code and task outputs."
  value       = google_storage_bucket.glacier_artifacts.name
}

output "function_urls" {
  description = "Cloud Functions, by executor name."
  value = {
    local = google_cloudfunctions2_function.local.url
    fn    = google_cloudfunctions2_function.fn.url
  }
}

output "workflow_ids" {
  description = "Workflows, by pipeline name: execute one to run the pipeline."
  value = {
    every_kind = google_workflows_workflow.every_kind.id
  }
}
