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

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex Setting();
}
