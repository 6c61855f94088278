// The Functions host generates a .NET method for every function of a non-.NET app and lets WebJobs index it; this
// does the same with Reflection.Emit: one public static method per orchestrator ([OrchestrationTrigger] string: the
// extension hands it the serialized orchestration context, as it does for the Node worker) and per activity
// ([ActivityTrigger] IDurableActivityContext), each calling Dispatch with its function's name.
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;

namespace Dialtone.ExtensionHost;

internal static class FunctionTypeBuilder
{
    public static Type Build(IReadOnlyList<AppFunction> functions)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Dialtone.GeneratedFunctions"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("Dialtone.GeneratedFunctions");
        var type = module.DefineType("Dialtone.GeneratedFunctions.AppFunctions", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract | TypeAttributes.Class);
        var functionName = typeof(FunctionNameAttribute).GetConstructor([typeof(string)])!;

        for (var i = 0; i < functions.Count; i++)
        {
            var f = functions[i];
            var (parameterType, trigger, triggerNameProperty, dispatch) = f.Kind switch
            {
                FunctionKind.Orchestration => (typeof(string), typeof(OrchestrationTriggerAttribute), nameof(OrchestrationTriggerAttribute.Orchestration), nameof(Dispatch.Orchestrate)),
                _ => (typeof(IDurableActivityContext), typeof(ActivityTriggerAttribute), nameof(ActivityTriggerAttribute.Activity), nameof(Dispatch.RunActivity)),
            };
            var method = type.DefineMethod($"Function{i}", MethodAttributes.Public | MethodAttributes.Static, typeof(Task<object?>), [parameterType]);
            method.SetCustomAttribute(new CustomAttributeBuilder(functionName, [f.Name]));
            var parameter = method.DefineParameter(1, ParameterAttributes.None, "context");
            parameter.SetCustomAttribute(new CustomAttributeBuilder(
                trigger.GetConstructor(Type.EmptyTypes)!,
                [],
                [trigger.GetProperty(triggerNameProperty)!],
                [f.Name]));
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Ldstr, f.Name);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, typeof(Dispatch).GetMethod(dispatch, BindingFlags.Public | BindingFlags.Static)!);
            il.Emit(OpCodes.Ret);
        }

        return type.CreateType();
    }
}
