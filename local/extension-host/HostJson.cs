// The Functions host reads an app's durable settings from host.json's extensions.durableTask section and resolves
// %NAME% app settings in them; WebJobs extensions bind their options from AzureWebJobs:Extensions:{name}. This turns
// one into the other.
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Dialtone.ExtensionHost;

internal static partial class HostJson
{
    public static Stream ToWebJobsConfiguration(string hostJsonPath)
    {
        var root = JsonNode.Parse(File.ReadAllText(hostJsonPath)) ?? throw new InvalidOperationException($"{hostJsonPath} is empty");
        var durable = root["extensions"]?["durableTask"]?.DeepClone() ?? new JsonObject();
        var text = Setting().Replace(durable.ToJsonString(), m =>
            Environment.GetEnvironmentVariable(m.Groups[1].Value) ?? throw new InvalidOperationException($"{hostJsonPath}: app setting {m.Groups[1].Value} is not set"));
        var wrapped = new JsonObject { ["AzureWebJobs"] = new JsonObject { ["Extensions"] = new JsonObject { ["DurableTask"] = JsonNode.Parse(text) } } };
        return new MemoryStream(Encoding.UTF8.GetBytes(wrapped.ToJsonString()));
    }

    /// <summary>
    /// host.json's functionTimeout, or the app setting AzureFunctionsJobHost__functionTimeout that overrides it (as app
    /// settings override host.json in Azure: learn.microsoft.com/azure/azure-functions/functions-host-json#override-hostjson-values);
    /// null when neither is set or it is -1 (no limit).
    /// </summary>
    public static TimeSpan? FunctionTimeout(string hostJsonPath)
    {
        var text = Environment.GetEnvironmentVariable("AzureFunctionsJobHost__functionTimeout");
        if (string.IsNullOrEmpty(text))
        {
            text = JsonNode.Parse(File.ReadAllText(hostJsonPath))?["functionTimeout"]?.GetValue<string>();
        }

        if (string.IsNullOrEmpty(text) || text.Trim() == "-1")
        {
            return null;
        }

        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero
            ? t
            : throw new InvalidOperationException($"{hostJsonPath}: functionTimeout '{text}' is not a time span (hh:mm:ss)");
    }

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex Setting();
}
