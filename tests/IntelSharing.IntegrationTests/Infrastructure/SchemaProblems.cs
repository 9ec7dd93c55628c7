using System.Text.Json;
using Json.Schema;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>Evaluates an instance against a JSON Schema (formats checked) and says what is wrong, readably.</summary>
public static class SchemaProblems
{
    /// <summary>The errors along the failing paths; empty when the instance validates.</summary>
    public static List<string> Of(JsonSchema schema, JsonElement instance)
    {
        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true });
        var problems = new List<string>();
        Collect(result, problems);
        return result.IsValid ? [] : problems.DefaultIfEmpty("invalid").ToList();
    }

    /// <summary>A branch of a valid anyOf/oneOf that did not fit is not a problem: only invalid nodes are walked.</summary>
    private static void Collect(EvaluationResults node, List<string> problems)
    {
        if (node.IsValid)
        {
            return;
        }

        problems.AddRange((node.Errors ?? new Dictionary<string, string>()).Select(e => $"{node.InstanceLocation} ({node.EvaluationPath}): {e.Value}"));
        foreach (var detail in node.Details ?? [])
        {
            Collect(detail, problems);
        }
    }
}
