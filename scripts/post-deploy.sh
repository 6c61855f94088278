#!/bin/sh
# azd post-deploy hook: points the storage account's Event Grid system topic at the app's blob trigger, for uploads
# to the intake container. Idempotent: re-running updates the same subscription.
set -eu
: "${AZURE_RESOURCE_GROUP:?run through azd (azd up / azd deploy)}"
: "${AZURE_FUNCTION_APP_NAME:?}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:?}"
container="${DIALTONE_INTAKE_CONTAINER:-license-requests}"

key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.blobs_extension" --output tsv)
if [ -z "$key" ]; then
  echo "The blobs_extension key does not exist yet; wait a minute and run: azd hooks run postdeploy" >&2
  exit 1
fi
endpoint="https://${AZURE_FUNCTION_APP_NAME}.azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.batches-intake&code=${key}"

az eventgrid system-topic event-subscription create \
  --name dialtone-intake \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" \
  --endpoint "$endpoint" \
  --endpoint-type webhook \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${container}/" \
  --output none
echo "Uploads to ${container} now start batches on ${AZURE_FUNCTION_APP_NAME}."
