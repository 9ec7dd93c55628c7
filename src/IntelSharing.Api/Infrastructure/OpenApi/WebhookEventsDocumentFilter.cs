using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Describes what partners receive: one components schema per event type (<c>WebhookEnvelope_&lt;type&gt;</c>, the
/// Standard Webhooks envelope <c>{type, timestamp, data}</c> with that event's <c>data</c>, and an example), and
/// <c>x-webhooks</c> naming them. The document is OpenAPI 3.0, which has no <c>webhooks</c>; <c>x-webhooks</c> holds
/// what 3.1's <c>webhooks</c> would (docs/decisions/0023-webhook-events-in-openapi-3-0.md).
/// </summary>
public sealed class WebhookEventsDocumentFilter(IReadOnlyList<WebhookEventContract> events) : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var webhooks = new JsonObject();
        foreach (var contract in events)
        {
            var data = contract.DataTypes.Select(t => context.SchemaGenerator.GenerateSchema(t, context.SchemaRepository)).ToList();
            context.SchemaRepository.AddDefinition(contract.EnvelopeSchemaName, Envelope(contract, data));
            webhooks[contract.Type] = Operation(contract);
        }

        swaggerDoc.Extensions ??= new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal);
        swaggerDoc.Extensions["x-webhooks"] = new JsonNodeExtension(webhooks);
    }

    private static OpenApiSchema Envelope(WebhookEventContract contract, List<IOpenApiSchema> data) => new()
    {
        Type = JsonSchemaType.Object,
        Description = $"The body of the {contract.Type} webhook (Standard Webhooks envelope). {contract.Description}",
        Required = new HashSet<string>(StringComparer.Ordinal) { "type", "timestamp", "data" },
        AdditionalPropertiesAllowed = false,
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create(contract.Type)], Description = "The event type." },
            ["timestamp"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = "date-time",
                Description = "When the event happened (UTC, microseconds). The webhook-timestamp header is when this attempt was sent.",
            },
            // A one-item allOf, as for every other reference: a $ref's sibling description is ignored in OpenAPI 3.0.
            ["data"] = data.Count == 1
                ? new OpenApiSchema { AllOf = [data[0]], Description = "The event's payload." }
                : new OpenApiSchema { AnyOf = [.. data], Description = "One of the shapes this event carries." },
        },
        Example = new JsonObject
        {
            ["type"] = contract.Type,
            ["timestamp"] = "2026-11-20T19:04:12.318204Z",
            ["data"] = contract.ExampleData(),
        },
    };

    private static JsonObject Operation(WebhookEventContract contract) => new()
    {
        ["post"] = new JsonObject
        {
            // Each webhook operation has an id of its own, as every operation must (Redocly's recommended rules): alert.published → webhookAlertPublished.
            ["operationId"] = OperationId(contract.Type),
            ["summary"] = contract.Type,
            ["description"] = contract.Description,
            ["parameters"] = new JsonArray(
                Header("webhook-id", "Stable across retries and replays of one delivery: deduplicate on it."),
                Header("webhook-timestamp", "Unix seconds when this attempt was signed."),
                Header("webhook-signature", "Space-separated v1,<base64 HMAC-SHA256> signatures (Standard Webhooks); more than one while a secret rotates.")),
            ["requestBody"] = new JsonObject
            {
                ["required"] = true,
                ["content"] = new JsonObject
                {
                    ["application/json"] = new JsonObject
                    {
                        ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{contract.EnvelopeSchemaName}" },
                    },
                },
            },
            ["responses"] = new JsonObject
            {
                ["2XX"] = new JsonObject { ["description"] = "Received. Any other answer (or none within the timeout) is retried on the durable schedule." },
            },
        },
    };

    private static JsonObject Header(string name, string description) => new()
    {
        ["name"] = name,
        ["in"] = "header",
        ["required"] = true,
        ["description"] = description,
        ["schema"] = new JsonObject { ["type"] = "string" },
    };

    private static string OperationId(string eventType) =>
        "webhook" + string.Concat(eventType.Split('.', '_').Select(part => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
}
