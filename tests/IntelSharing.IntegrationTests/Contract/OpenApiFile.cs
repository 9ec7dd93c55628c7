using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>The committed OpenAPI document: where it lives, how it is normalised, how to regenerate it.</summary>
public static class OpenApiFile
{
    public const string RelativePath = "openapi/intelsharing.v1.json";
    public const string UpdateVariable = "INTELSHARING_UPDATE_OPENAPI";

    public const string HowToRegenerate =
        "If the change is intended, regenerate the file with " +
        "`INTELSHARING_UPDATE_OPENAPI=1 dotnet test IntelSharing.sln --filter FullyQualifiedName~OpenApiDocumentTests`, " +
        "review `git diff openapi/` and commit it with the change.";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        // Keep Preševo, Horgoš–Röszke and quotes readable in the committed file and its diffs.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ServedPath => $"/swagger/{OpenApiSetup.DocumentName}/swagger.json";

    public static bool UpdateRequested => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    public static string CommittedPath => Path.Combine(RepositoryRoot(), RelativePath);

    /// <summary>Formatting-independent text of a JSON document; property order is kept, because the document must be deterministic.</summary>
    public static string Normalise(string json) => JsonNode.Parse(json)!.ToJsonString(Indented) + "\n";

    /// <summary>The JSON path of the first place where two documents differ, for the failure message.</summary>
    public static string FirstDifference(JsonNode? expected, JsonNode? actual, string path)
    {
        if (expected is JsonObject expectedObject && actual is JsonObject actualObject)
        {
            foreach (var (name, value) in expectedObject)
            {
                if (!actualObject.TryGetPropertyValue(name, out var other))
                {
                    return $"{path}['{name}'] (removed)";
                }

                if (!JsonNode.DeepEquals(value, other))
                {
                    return FirstDifference(value, other, $"{path}['{name}']");
                }
            }

            var added = actualObject.Select(p => p.Key).FirstOrDefault(name => !expectedObject.ContainsKey(name));
            return added is null ? $"{path} (property order)" : $"{path}['{added}'] (added)";
        }

        if (expected is JsonArray expectedArray && actual is JsonArray actualArray)
        {
            for (var i = 0; i < Math.Min(expectedArray.Count, actualArray.Count); i++)
            {
                if (!JsonNode.DeepEquals(expectedArray[i], actualArray[i]))
                {
                    return FirstDifference(expectedArray[i], actualArray[i], $"{path}[{i}]");
                }
            }

            return $"{path} (length {expectedArray.Count} → {actualArray.Count})";
        }

        return path;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IntelSharing.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"IntelSharing.sln not found above {AppContext.BaseDirectory}; run the tests from the repository.");
    }
}
