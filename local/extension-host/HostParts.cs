// The small services a plain WebJobs host lacks and the Functions host provides: the list of function types, the
// webhook URL the extension puts into management links, the durable client binding data for the Node side, and a
// log sink on stderr.
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.Logging;

namespace Dialtone.ExtensionHost;

internal sealed class FixedTypeLocator(params Type[] types) : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => types;
}

/// <summary>The extension asks for its webhook base (…/runtime/webhooks/durabletask); the Node server answers there.</summary>
#pragma warning disable CS0618 // "not ready for public consumption", yet the extension takes one from the Functions host.
internal sealed class FixedWebHookProvider(Uri webhookBase) : IWebHookProvider
{
    public Uri GetUrl(IExtensionConfigProvider extension) => webhookBase;
}
#pragma warning restore CS0618

/// <summary>Called once at start-up: the [DurableClient] string binding is what the Functions host sends the Node worker.</summary>
public static class ClientCapture
{
    public static string ClientJson { get; private set; } = string.Empty;

    public const string FunctionName = "dialtone-durable-client";

    // DF0203 says a .NET function should take IDurableClient; the string form is the extension's converter for
    // non-.NET workers (BindingHelper.DurableOrchestrationClientToString), which is exactly what is wanted here.
#pragma warning disable DF0203
    [NoAutomaticTrigger]
    [FunctionName(FunctionName)]
    public static void Capture([DurableClient] string client) => ClientJson = client;
#pragma warning restore DF0203
}

internal sealed class StderrLoggerProvider(bool verbose) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName, verbose);

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category, bool verbose) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= (verbose ? LogLevel.Information : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!this.IsEnabled(logLevel))
            {
                return;
            }

            Console.Error.WriteLine($"[extension-host] {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")}");
        }
    }
}
