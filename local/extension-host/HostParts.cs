// The small services a plain WebJobs host lacks and the Functions host provides: the list of function types, the
// webhook URL the extension puts into management links, the durable client binding data for the Node side, and a
// log sink on stderr.
using System.Runtime.ExceptionServices;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Azure.WebJobs.Host.Timers;
using Microsoft.Extensions.Hosting;
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

        /// <summary>WebJobs' startup category (LogCategories.Startup), where a listener's retries are logged.</summary>
        private const string StartupCategory = "Host.Startup";

        public bool IsEnabled(LogLevel logLevel) => logLevel >= (verbose || category == StartupCategory ? LogLevel.Information : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!this.IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            // Below Warning, and unless verbose, only a listener's retries (WebJobs' FunctionListener, in partial host
            // startup: "Retrying to start listener…", "Listener successfully started…"), which the conformance tests read
            // to accept the failed start before them.
            if (!verbose && logLevel < LogLevel.Warning && !message.Contains("listener", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            Console.Error.WriteLine($"[extension-host] {logLevel} {category}: {message}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")}");
        }
    }
}

/// <summary>
/// What happens after a function exceeded functionTimeout. The invocation has already failed with WebJobs'
/// FunctionTimeoutException ("Timeout value of … was exceeded by function: Functions.x"), which the extension records
/// as the activity's failure. The Functions host then restarts the language worker that ran it
/// (WebScriptHostExceptionHandler in Azure/azure-functions-host: "A function timeout has occurred. Restarting worker
/// process executing invocationId …"); WebJobs' default handler would end this process instead. Here the Node worker
/// is this host's parent and cannot be restarted: the warning is logged the same, and the abandoned invocation runs on
/// in Node until it ends, its answer dropped.
/// </summary>
internal sealed class WorkerRestartExceptionHandlerFactory(ILoggerFactory loggers) : IWebJobsExceptionHandlerFactory
{
    public IWebJobsExceptionHandler Create(IHost jobHost) => new Handler(loggers.CreateLogger("Host.Function.Timeout"));

    private sealed class Handler(ILogger logger) : IWebJobsExceptionHandler
    {
        public Task OnTimeoutExceptionAsync(ExceptionDispatchInfo exceptionInfo, TimeSpan timeoutGracePeriod)
        {
            var id = (exceptionInfo.SourceException as FunctionTimeoutException)?.InstanceId.ToString() ?? "unknown";
            logger.LogWarning("A function timeout has occurred. The worker process executing invocationId '{InvocationId}' is not restarted here (the Node side is this host's parent).", id);
            return Task.CompletedTask;
        }

        public Task OnUnhandledExceptionAsync(ExceptionDispatchInfo exceptionInfo)
        {
            logger.LogCritical(exceptionInfo.SourceException, "An unhandled exception has occurred. Host is shutting down.");
            exceptionInfo.Throw();
            return Task.CompletedTask;
        }
    }
}
