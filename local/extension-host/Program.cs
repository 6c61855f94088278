// The real Durable Functions extension (Microsoft.Azure.WebJobs.Extensions.DurableTask) in a plain WebJobs host, for
// a Node app. Azure runs the extension inside the Functions host, which is not available here; this program stands in
// for the part of it the extension needs: it reads the app's host.json, generates one WebJobs function per
// orchestrator and activity the Node side names, and forwards each invocation to the Node bridge, which runs the
// compiled app through @azure/functions-core. No dialtone logic lives here.
using Dialtone.ExtensionHost;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Azure.WebJobs.Host.Timers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var settings = HostSettings.FromEnvironment();
Dispatch.Bridge = new NodeBridge(settings.BridgeUrl);

var functionsType = FunctionTypeBuilder.Build(settings.Functions);
var functionTimeout = HostJson.FunctionTimeout(settings.HostJsonPath);
var host = new HostBuilder()
    .UseContentRoot(AppContext.BaseDirectory)
    .ConfigureAppConfiguration(c =>
    {
        c.AddJsonStream(HostJson.ToWebJobsConfiguration(settings.HostJsonPath));
        // After host.json, as app settings override host.json in Azure (there as AzureFunctionsJobHost__…).
        c.AddEnvironmentVariables();
    })
    .ConfigureLogging(l =>
    {
        l.ClearProviders();
        l.AddProvider(new StderrLoggerProvider(settings.Verbose));
    })
    // Partial startup, as the Functions host runs WebJobs (ScriptHostBuilderExtensions in Azure/azure-functions-host sets
    // JobHostOptions.AllowPartialHostStartup): a listener that cannot start, such as the extension's when a storage
    // request fails as it creates the task hub, is logged and retried in the background with a growing delay
    // (WebJobs' FunctionListener) instead of failing the whole host.
    .ConfigureWebJobs(b => b.AddDurableTask(), o => o.AllowPartialHostStartup = true)
    .ConfigureServices(s =>
    {
        s.AddSingleton<ITypeLocator>(new FixedTypeLocator(functionsType, typeof(ClientCapture)));
        // host.json's functionTimeout, enforced as the Functions host has WebJobs enforce it: the invocation fails with
        // WebJobs' FunctionTimeoutException, and the exception handler stands in for the host's worker restart.
        if (functionTimeout is { } timeout)
        {
            s.Configure<JobHostFunctionTimeoutOptions>(o =>
            {
                o.Timeout = timeout;
                o.ThrowOnTimeout = true;
                o.TimeoutWhileDebugging = true;
            });
        }

        s.AddSingleton<IWebJobsExceptionHandlerFactory, WorkerRestartExceptionHandlerFactory>();
#pragma warning disable CS0618 // IWebHookProvider is marked "not ready for public consumption"; the Functions host implements it and the extension reads it.
        s.AddSingleton<IWebHookProvider>(new FixedWebHookProvider(settings.WebhookBaseUrl));
#pragma warning restore CS0618
    })
    .UseConsoleLifetime()
    .Build();

await host.StartAsync();
var jobHost = host.Services.GetRequiredService<IJobHost>();
await jobHost.CallAsync(ClientCapture.FunctionName);
// One line the Node side waits for: the durable client binding data, as the Functions host would hand it to the worker.
Console.Out.WriteLine($"DIALTONE_EXTENSION_READY {ClientCapture.ClientJson}");
Console.Out.Flush();
// The Node side keeps this process's stdin open; when it dies, end of input ends this host too.
_ = Task.Run(() =>
{
    while (Console.In.Read() >= 0)
    {
    }

    host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
});
await host.WaitForShutdownAsync();
