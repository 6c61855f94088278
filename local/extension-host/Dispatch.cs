// What every generated function calls: it sends the extension's payload to the Node bridge and hands the SDK's
// answer back in the form the Functions host uses, so that the extension treats it as it treats the Node worker's.
using Microsoft.Azure.WebJobs.Extensions.DurableTask;

namespace Dialtone.ExtensionHost;

public static class Dispatch
{
    internal static NodeBridge? Bridge { get; set; }

    private static NodeBridge Node => Bridge ?? throw new InvalidOperationException("the Node bridge is not configured");

    /// <summary>An orchestrator episode: the serialized context in, the SDK's OrchestratorState out.</summary>
    public static async Task<object?> Orchestrate(string name, string context)
    {
        var answer = await Node.InvokeAsync("orchestration", name, context).ConfigureAwait(false);
        return answer.ResultOrThrow();
    }

    /// <summary>An activity: its input as JSON in, its return value out.</summary>
    public static async Task<object?> RunActivity(string name, IDurableActivityContext context)
    {
        // The Node worker receives an activity's input as JSON and parses it; send the input exactly as recorded.
        var input = context.GetInput<Newtonsoft.Json.Linq.JToken?>();
        var answer = await Node.InvokeAsync("activity", name, input?.ToString(Newtonsoft.Json.Formatting.None) ?? "null").ConfigureAwait(false);
        return answer.ResultOrThrow();
    }
}
