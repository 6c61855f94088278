# azd post-deploy hook (Windows): points the storage account's Event Grid system topic at the app's blob trigger.
$ErrorActionPreference = 'Stop'
foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME') {
  if (-not (Get-Item "env:$name" -ErrorAction SilentlyContinue)) { throw "$name is not set: run through azd (azd up / azd deploy)" }
}
$container = if ($env:DIALTONE_INTAKE_CONTAINER) { $env:DIALTONE_INTAKE_CONTAINER } else { 'license-requests' }
$key = az functionapp keys list --resource-group $env:AZURE_RESOURCE_GROUP --name $env:AZURE_FUNCTION_APP_NAME --query 'systemKeys.blobs_extension' --output tsv
if (-not $key) { throw 'The blobs_extension key does not exist yet; wait a minute and run: azd hooks run postdeploy' }
$endpoint = "https://$($env:AZURE_FUNCTION_APP_NAME).azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.batches-intake&code=$key"
az eventgrid system-topic event-subscription create `
  --name dialtone-intake `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --system-topic-name $env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME `
  --endpoint $endpoint `
  --endpoint-type webhook `
  --included-event-types Microsoft.Storage.BlobCreated `
  --subject-begins-with "/blobServices/default/containers/$container/" `
  --output none
Write-Host "Uploads to $container now start batches on $($env:AZURE_FUNCTION_APP_NAME)."
