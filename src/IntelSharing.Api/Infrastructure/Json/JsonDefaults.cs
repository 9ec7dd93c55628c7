using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IntelSharing.Api.Infrastructure.Json;

/// <summary>
/// One JSON configuration for requests, responses, stored documents and the OpenAPI schema generator.
/// Strict on input: unknown properties, duplicate properties, integers for enums, enum names in another case and
/// nulls where the schema says non-null are client mistakes, reported with the field named.
/// </summary>
public static class JsonDefaults
{
    public static readonly JsonSerializerOptions Options = Create();

    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        // No DictionaryKeyPolicy: dictionary keys are data (the field names in a problem's errors, e.g. Idempotency-Key), not member names.
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
        options.RespectNullableAnnotations = true;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.MaxDepth = 32;
        // Responses are JSON documents, never embedded in HTML: keep Cyrillic, diacritics and '+' readable.
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Add(new ExactEnumConverter());
        options.Converters.Add(new Rfc3339DateTimeOffsetConverter());
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
