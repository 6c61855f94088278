# azd post-deploy hook (Windows): subscribes the app's Event Grid-triggered intake function (batches-intake) to
# BlobCreated events of the intake container. Waits (up to about 5 minutes) for the eventgrid_extension system key,
# which exists only once the deployed app has started, instead of failing `azd up`.
$ErrorActionPreference = 'Stop'
# az is a cmd script: PowerShell passes the URL to cmd.exe, which splits an unquoted argument at '&' (here at
# '&code='). The Azure CLI's "Quoting issues with PowerShell" guide: wrap such a value in literal double quotes, which
# PowerShell's legacy argument passing hands to cmd.exe unchanged.
$PSNativeCommandArgumentPassing = 'Legacy'
foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_FUNCTION_URI', 'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME') {
  if (-not (Get-Item "env:$name" -ErrorAction SilentlyContinue)) { throw "$name is not set: run through azd (azd up / azd deploy)" }
}
$container = if ($env:DIALTONE_INTAKE_CONTAINER) { $env:DIALTONE_INTAKE_CONTAINER } else { 'license-requests' }
$attempts = if ($env:DIALTONE_KEY_WAIT_ATTEMPTS) { [int]$env:DIALTONE_KEY_WAIT_ATTEMPTS } else { 20 }
$pause = if ($env:DIALTONE_KEY_WAIT_SECONDS) { [int]$env:DIALTONE_KEY_WAIT_SECONDS } else { 15 }

$key = $null
for ($i = 1; $i -le $attempts; $i++) {
  $key = az functionapp keys list --resource-group $env:AZURE_RESOURCE_GROUP --name $env:AZURE_FUNCTION_APP_NAME --query 'systemKeys.eventgrid_extension' --output tsv 2>$null
  if ($LASTEXITCODE -eq 0 -and $key) { break }
  $key = $null
  Write-Host "Waiting for the eventgrid_extension key of $($env:AZURE_FUNCTION_APP_NAME) (attempt $i of $attempts)..."
  Start-Sleep -Seconds $pause
}
if (-not $key) { throw 'The eventgrid_extension key still does not exist; check that the app started (Log stream), then run: azd hooks run postdeploy' }
$endpoint = "$($env:AZURE_FUNCTION_URI.TrimEnd('/'))/runtime/webhooks/eventgrid?functionName=batches-intake&code=$key"

az eventgrid system-topic event-subscription create `
  --name dialtone-intake `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --system-topic-name $env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME `
  --endpoint "`"$endpoint`"" `
  --endpoint-type webhook `
  --event-delivery-schema eventgridschema `
  --included-event-types Microsoft.Storage.BlobCreated `
  --subject-begins-with "/blobServices/default/containers/$container/" `
  --output none
if ($LASTEXITCODE -ne 0) { throw "az eventgrid system-topic event-subscription create failed ($LASTEXITCODE)" }
Write-Host "Uploads to $container now start batches on $($env:AZURE_FUNCTION_APP_NAME)."

if ($env:DIALTONE_SKIP_DOCTOR -eq '1') { exit 0 }
$fkey = az functionapp keys list --resource-group $env:AZURE_RESOURCE_GROUP --name $env:AZURE_FUNCTION_APP_NAME --query 'functionKeys.default' --output tsv 2>$null
if ($LASTEXITCODE -ne 0 -or -not $fkey) {
  Write-Warning "No default function key to run the health check with; run it later: npm run dialtone -- doctor --url $($env:AZURE_FUNCTION_URI) --key <key>"
  exit 0
}
$env:DIALTONE_FUNCTION_KEY = $fkey
node (Join-Path $PSScriptRoot '..' 'bin' 'dialtone.js') doctor --url $env:AZURE_FUNCTION_URI
if ($LASTEXITCODE -ne 0) { Write-Warning "Some health checks failed (above): grant what they name, then check again: npm run dialtone -- doctor --url $($env:AZURE_FUNCTION_URI) --key <key>" }
exit 0
