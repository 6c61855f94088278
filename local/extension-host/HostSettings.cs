// What the Node side tells this host through its environment: where the bridge listens, which functions the app
// registered, where its host.json is and which URL the extension should put in its management links.
using System.Text.Json;

namespace Dialtone.ExtensionHost;

internal enum FunctionKind
{
    Orchestration,
    Activity,
}

internal sealed record AppFunction(string Name, FunctionKind Kind);

internal sealed record HostSettings(Uri BridgeUrl, IReadOnlyList<AppFunction> Functions, string HostJsonPath, Uri WebhookBaseUrl, bool Verbose)
{
    public static HostSettings FromEnvironment()
    {
        var bridge = Required("DIALTONE_BRIDGE_URL");
        var functionsJson = Required("DIALTONE_BRIDGE_FUNCTIONS");
        var hostJson = Required("DIALTONE_HOST_JSON");
        var webhook = Required("DIALTONE_WEBHOOK_BASE_URL");
        if (Environment.GetEnvironmentVariable("FUNCTIONS_WORKER_RUNTIME") != "node")
        {
            throw new InvalidOperationException("FUNCTIONS_WORKER_RUNTIME must be 'node': the extension chooses its out-of-process protocol from it");
        }

        var functions = new List<AppFunction>();
        using (var doc = JsonDocument.Parse(functionsJson))
        {
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                var name = item.GetProperty("name").GetString() ?? throw new InvalidOperationException("DIALTONE_BRIDGE_FUNCTIONS: a function has no name");
                var kind = item.GetProperty("kind").GetString() switch
                {
                    "orchestration" => FunctionKind.Orchestration,
                    "activity" => FunctionKind.Activity,
                    var other => throw new InvalidOperationException($"DIALTONE_BRIDGE_FUNCTIONS: function {name} has unknown kind '{other}'"),
                };
                functions.Add(new AppFunction(name, kind));
            }
        }

        return new HostSettings(new Uri(bridge), functions, hostJson, new Uri(webhook), Environment.GetEnvironmentVariable("DIALTONE_VERBOSE") == "1");
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is required");
}
