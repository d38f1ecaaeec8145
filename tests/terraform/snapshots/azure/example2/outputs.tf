output "container_names" {
  description = "Data containers, by Glacier bucket name."
  value = {
    data-lake = azurerm_storage_container.data_lake.name
  }
}

output "storage_account" {
  description = "The storage account holding them."
  value       = azurerm_storage_account.data.name
}

output "function_app_hostnames" {
  description = "Function apps, by executor name."
  value = {
    local  = azurerm_linux_function_app.local.default_hostname
    lambda = azurerm_linux_function_app.lambda.default_hostname
  }
}

output "logic_app_ids" {
  description = "Logic App workflows, by pipeline name: trigger one to run the pipeline."
  value = {
    ml_inference = azurerm_logic_app_workflow.ml_inference.id
  }
}
