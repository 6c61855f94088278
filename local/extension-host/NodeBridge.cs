// The HTTP client for the Node bridge (loopback only). An invocation's answer is either the function's result as
// JSON or the error the Node function threw; an error is rethrown in the Functions host's RpcException form
// ("Result: Failure\nException: …\nStack: …"), which is what the extension parses to find the SDK's $OutOfProcData$
// (OutOfProcExceptionHelpers in Azure/azure-functions-durable-extension).
using System.Net.Http.Headers;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Dialtone.ExtensionHost;

internal sealed class NodeBridge(Uri baseUrl)
{
    private readonly HttpClient http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
    {
        BaseAddress = baseUrl,
        // Activities may run as long as host.json's functionTimeout allows; the bridge enforces nothing shorter.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async Task<BridgeAnswer> InvokeAsync(string kind, string name, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await this.http.PostAsync($"{kind}/{Uri.EscapeDataString(name)}", content).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the Node bridge answered {(int)response.StatusCode} for {kind} {name}: {body}");
        }

        return BridgeAnswer.Parse(body);
    }
}

internal sealed class BridgeAnswer
{
    private BridgeAnswer(JToken? result, string? errorMessage, string? errorStack)
    {
        this.Result = result;
        this.ErrorMessage = errorMessage;
        this.ErrorStack = errorStack;
    }

    public JToken? Result { get; }

    public string? ErrorMessage { get; }

    public string? ErrorStack { get; }

    public static BridgeAnswer Parse(string body)
    {
        // The Functions host parses a worker's JSON with DateParseHandling.None: ISO strings stay strings.
        using var reader = new JsonTextReader(new StringReader(body)) { DateParseHandling = DateParseHandling.None };
        var root = JObject.Load(reader);
        if (root.Value<bool>("ok"))
        {
            var result = root["result"];
            return new BridgeAnswer(result is null || result.Type == JTokenType.Null ? null : result, null, null);
        }

        return new BridgeAnswer(null, root.Value<string>("message") ?? "unknown error", root.Value<string>("stack") ?? string.Empty);
    }

    public object? ResultOrThrow()
    {
        if (this.ErrorMessage is not null)
        {
            throw new NodeFunctionException($"Result: Failure\nException: {this.ErrorMessage}\nStack: {this.ErrorStack}");
        }

        return this.Result;
    }
}

/// <summary>An error thrown by the Node function, in the Functions host's RpcException message form.</summary>
public sealed class NodeFunctionException(string message) : Exception(message);
