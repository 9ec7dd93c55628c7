using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Completes the document once every schema is known: properties without a description get the
/// <see cref="PropertyGlossary"/> text, and every request body and success response that no hand-written example
/// covers gets one built from its schema (enum values, formats, the glossary's values), so Swagger UI never shows
/// <c>"string"</c>. Built from the schema, such an example always matches it; where a value cannot be chosen the
/// example is left out, and the contract test names the gap.
/// </summary>
public sealed class ContractCompletionDocumentFilter : IDocumentFilter
{
    private const int MaxDepth = 32;
    private const string ExampleId = "01a1fa58-491e-7ca1-9f35-744d4250ed11";
    private const string ExampleTime = "2026-11-20T19:04:12.318204+00:00";

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var schemas = swaggerDoc.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in schemas)
        {
            foreach (var (property, found) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (found is OpenApiSchema concrete && string.IsNullOrWhiteSpace(concrete.Description) && Lookup(PropertyGlossary.Descriptions, name, property) is { } description)
                {
                    concrete.Description = description;
                }
            }
        }

        foreach (var operation in (swaggerDoc.Paths ?? []).Values.SelectMany(path => path.Operations?.Values.AsEnumerable() ?? []))
        {
            foreach (var media in operation.RequestBody?.Content?.Values ?? [])
            {
                Exemplify(media, schemas);
            }

            foreach (var (status, response) in operation.Responses ?? new OpenApiResponses())
            {
                if (status.StartsWith('2'))
                {
                    foreach (var media in response.Content?.Values ?? [])
                    {
                        Exemplify(media, schemas);
                    }
                }
            }
        }
    }

    private static void Exemplify(OpenApiMediaType media, IDictionary<string, IOpenApiSchema> schemas)
    {
        if (media.Example is not null || media.Examples is { Count: > 0 } || media.Schema is null)
        {
            return;
        }

        media.Example = Build(media.Schema, schemas, owner: string.Empty, property: null, depth: 0);
    }

    /// <summary>An example value for <paramref name="schema"/>, or null when some required part of it has no value to choose.</summary>
    private static JsonNode? Build(IOpenApiSchema schema, IDictionary<string, IOpenApiSchema> schemas, string owner, string? property, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        if (schema is OpenApiSchemaReference reference && reference.Reference.Id is { } id && schemas.TryGetValue(id, out var target))
        {
            return Build(target, schemas, id, property, depth + 1);
        }

        if (schema.Example is { } example)
        {
            return example.DeepClone();
        }

        if (schema.Enum is { Count: > 0 } values)
        {
            return values[0]?.DeepClone();
        }

        if (schema.AllOf is { Count: > 0 } allOf)
        {
            return Build(allOf[0], schemas, owner, property, depth + 1);
        }

        if ((schema.OneOf ?? schema.AnyOf) is { Count: > 0 } alternatives)
        {
            return Build(alternatives[0], schemas, owner, property, depth + 1);
        }

        var type = (schema.Type ?? 0) & ~JsonSchemaType.Null;
        if (type == JsonSchemaType.Object || (type == 0 && schema.Properties is { Count: > 0 }))
        {
            return BuildObject(schema, schemas, owner, depth);
        }

        return type switch
        {
            JsonSchemaType.Array when schema.Items is not null =>
                Build(schema.Items, schemas, owner, property, depth + 1) is { } item ? new JsonArray(item) : null,
            JsonSchemaType.String => StringValue(schema, owner, property),
            JsonSchemaType.Integer => JsonValue.Create(IntegerValue(property)),
            JsonSchemaType.Number => JsonValue.Create(1.5),
            JsonSchemaType.Boolean => JsonValue.Create(true),
            _ => null,
        };
    }

    private static JsonObject? BuildObject(IOpenApiSchema schema, IDictionary<string, IOpenApiSchema> schemas, string owner, int depth)
    {
        var result = new JsonObject();
        foreach (var (name, propertySchema) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            var value = Build(propertySchema, schemas, owner, name, depth + 1);
            if (value is not null)
            {
                result[name] = value;
            }
            else if (schema.Required?.Contains(name) == true)
            {
                return null;
            }
        }

        // A map (the problem's errors): one entry, keyed by a field a request really has.
        if (result.Count == 0 && schema.AdditionalProperties is { } entries && Build(entries, schemas, owner, "detail", depth + 1) is { } entry)
        {
            result["url"] = entry;
        }

        return result;
    }

    private static JsonValue? StringValue(IOpenApiSchema schema, string owner, string? property) => schema.Format switch
    {
        "uuid" => JsonValue.Create(ExampleId),
        "date-time" => JsonValue.Create(ExampleTime),
        "date" => JsonValue.Create("1987-03-14"),
        "uri" => JsonValue.Create("https://webhooks.granicna-policija.rs/intelsharing"),
        _ => property is not null && Lookup(PropertyGlossary.StringExamples, owner, property) is { } value ? JsonValue.Create(value) : null,
    };

    private static int IntegerValue(string? property) => property switch
    {
        "status" or "statusCode" or "lastStatus" => 200,
        "durationMs" => 142,
        "estimatedPeople" => 40,
        "attempts" or "attempt" => 2,
        "seq" or "headSeq" or "records" or "verified" or "position" => 5120,
        "replayed" => 12,
        _ => 1,
    };

    private static string? Lookup(IReadOnlyDictionary<string, string> glossary, string owner, string property) =>
        glossary.TryGetValue($"{owner}.{property}", out var specific) ? specific
        : glossary.TryGetValue(property, out var general) ? general
        : null;
}
