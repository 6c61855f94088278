#!/bin/sh
# azd post-deploy hook: subscribes the app's Event Grid-triggered intake function (batches-intake) to BlobCreated
# events of the intake container, through the data storage account's Event Grid system topic. The webhook needs the
# eventgrid_extension system key, which the Functions host creates only once the deployed app has started, so this
# waits for it (up to about 5 minutes) instead of failing `azd up`. Idempotent: re-running updates the subscription.
# Then it prints the app's deep health check (`dialtone doctor`: every dependency, what is missing, the command that
# grants it); a failed check is reported, not fatal, since permissions are often granted after the first deployment.
set -eu
: "${AZURE_RESOURCE_GROUP:?run through azd (azd up / azd deploy)}"
: "${AZURE_FUNCTION_APP_NAME:?}"
: "${AZURE_FUNCTION_URI:?the azd output AZURE_FUNCTION_URI is missing: run azd provision}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:?}"
container="${DIALTONE_INTAKE_CONTAINER:-license-requests}"
attempts="${DIALTONE_KEY_WAIT_ATTEMPTS:-20}"
pause="${DIALTONE_KEY_WAIT_SECONDS:-15}"

key=""
i=1
while [ "$i" -le "$attempts" ]; do
  key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.eventgrid_extension" --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "Waiting for the eventgrid_extension key of ${AZURE_FUNCTION_APP_NAME} (attempt ${i} of ${attempts})..."
  sleep "$pause"
  i=$((i + 1))
done
if [ -z "$key" ]; then
  echo "The eventgrid_extension key still does not exist; check that the app started (Log stream), then run: azd hooks run postdeploy" >&2
  exit 1
fi
endpoint="${AZURE_FUNCTION_URI%/}/runtime/webhooks/eventgrid?functionName=batches-intake&code=${key}"

az eventgrid system-topic event-subscription create \
  --name dialtone-intake \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" \
  --endpoint "$endpoint" \
  --endpoint-type webhook \
  --event-delivery-schema eventgridschema \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${container}/" \
  --output none
echo "Uploads to ${container} now start batches on ${AZURE_FUNCTION_APP_NAME}."

[ "${DIALTONE_SKIP_DOCTOR:-}" = "1" ] && exit 0
fkey=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" --query "functionKeys.default" --output tsv 2>/dev/null || true)
if [ -z "$fkey" ]; then
  echo "No default function key to run the health check with; run it later: DIALTONE_FUNCTION_KEY=<key> npm run dialtone -- doctor --url ${AZURE_FUNCTION_URI}" >&2
  exit 0
fi
if ! DIALTONE_FUNCTION_KEY="$fkey" node "$(dirname "$0")/../bin/dialtone.js" doctor --url "$AZURE_FUNCTION_URI"; then
  echo "Some health checks failed (above): grant what they name, then check again: DIALTONE_FUNCTION_KEY=<key> npm run dialtone -- doctor --url ${AZURE_FUNCTION_URI}" >&2
fi
