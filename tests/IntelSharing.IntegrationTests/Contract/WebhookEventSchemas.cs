using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.IntegrationTests.Infrastructure;
using Json.Schema;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// The webhook event schemas of the served OpenAPI 3.0 document as JSON Schema 2020-12 (JsonSchema.Net): the components
/// become <c>$defs</c>, <c>nullable</c> becomes a type array (or an <c>anyOf</c> with null around a reference), and each
/// <c>WebhookEnvelope_&lt;type&gt;</c> is the root of one schema.
/// </summary>
public sealed class WebhookEventSchemas
{
    private readonly JsonObject _definitions;

    private WebhookEventSchemas(JsonObject definitions) => _definitions = definitions;

    public static WebhookEventSchemas From(JsonNode openApiDocument)
    {
        var components = openApiDocument["components"]?["schemas"]?.AsObject() ?? throw new InvalidOperationException("The document has no components schemas.");
        return new WebhookEventSchemas(ConvertEach(components));
    }

    /// <summary>The event types the document describes, from <c>x-webhooks</c> and its envelope schemas.</summary>
    public IReadOnlyList<string> EventTypes => _definitions.Select(d => d.Key)
        .Where(k => k.StartsWith(WebhookEventContract.EnvelopeSchemaPrefix, StringComparison.Ordinal))
        .Select(k => k[WebhookEventContract.EnvelopeSchemaPrefix.Length..]).ToList();

    /// <summary>What is wrong with <paramref name="body"/> as an event of its own <c>type</c>; empty when it validates.</summary>
    public IReadOnlyList<string> ProblemsWith(JsonElement body)
    {
        var type = body.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(no type)";
        if (!EventTypes.Contains(type))
        {
            return [$"{type}: no schema in the document for this event type"];
        }

        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = _definitions.DeepClone(),
            ["$ref"] = $"#/$defs/{WebhookEventContract.EnvelopeSchemaPrefix}{type}",
        };
        var schema = JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        return SchemaProblems.Of(schema, body).Select(p => $"{type}: {p}").ToList();
    }

    /// <summary>A map of names to schemas (components, properties): the names are not keywords.</summary>
    private static JsonObject ConvertEach(JsonObject schemas) => new(schemas.Select(s => KeyValuePair.Create(s.Key, s.Value is null ? null : Convert(s.Value))));

    /// <summary>OpenAPI 3.0 schema object (recursively) to JSON Schema 2020-12.</summary>
    private static JsonNode Convert(JsonNode node)
    {
        switch (node)
        {
            case JsonArray array:
                return new JsonArray(array.Select(item => item is null ? null : Convert(item)).ToArray());
            case JsonObject obj:
            {
                var converted = new JsonObject();
                var nullable = false;
                foreach (var (key, value) in obj)
                {
                    switch (key)
                    {
                        case "nullable":
                            nullable = value?.GetValue<bool>() == true;
                            break;
                        case "example":
                            break;
                        case "properties":
                            converted[key] = ConvertEach(value!.AsObject());
                            break;
                        case "$ref":
                            converted[key] = value!.GetValue<string>().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
                            break;
                        default:
                            converted[key] = value is null ? null : Convert(value);
                            break;
                    }
                }

                return nullable ? Nullable(converted) : converted;
            }

            default:
                return node.DeepClone();
        }
    }

    private static JsonObject Nullable(JsonObject schema)
    {
        if (schema["allOf"] is not null || schema["anyOf"] is not null || schema["oneOf"] is not null || schema["$ref"] is not null)
        {
            // null cannot satisfy the referenced schema, so null is an alternative to the whole of it.
            schema.Remove("type");
            return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "null" }, schema) };
        }

        if (schema["type"] is JsonValue type)
        {
            schema["type"] = new JsonArray(type.GetValue<string>(), "null");
        }

        if (schema["enum"] is JsonArray values)
        {
            values.Add(null);
        }

        return schema;
    }
}
