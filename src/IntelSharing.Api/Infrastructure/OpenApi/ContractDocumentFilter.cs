using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Finishes the document where Swashbuckle leaves gaps that linters (and strict OpenAPI 3.0 tools) reject:
/// every tag gets a description, and a nullable property that refers to another schema through a one-item
/// <c>allOf</c> states that schema's <c>type</c> next to <c>nullable</c> (OpenAPI 3.0.3: <c>nullable</c> only
/// has a meaning where <c>type</c> is given).
/// </summary>
public sealed class ContractDocumentFilter : IDocumentFilter
{
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Agencies"] = "Partner agencies and their API keys. Operators (agencies:admin) register agencies and issue keys.",
        ["Alerts"] = "Submit, update, revoke and share alerts; read and list them and their versions; feedback on hits.",
        ["Audit"] = "The append-only, hash-chained audit trail (audit:read): list records and verify the chain.",
        ["Feed"] = "Every change you may see, in an order that never skips a late commit: as pages or as Server-Sent Events.",
        ["Deliveries"] = "Webhook deliveries to your endpoints: their state and replay.",
        ["Indicators"] = "Has anyone reported this phone, IBAN, plate, domain or wallet? Search by normalised indicator value, under the sharing rules.",
        ["Sharing groups"] = "Named sets of agencies that an alert's audience may name; operators manage them, every partner can list them.",
        ["Statistics"] = "Published results (statistics:read): counts by period, category, country and partner, with small counts suppressed; JSON or CSV.",
        ["Subscriptions"] = "Endpoints that receive alert webhooks (Standard Webhooks signatures), with filters, and their partner health.",
    };

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        if (swaggerDoc.Tags is not null)
        {
            foreach (var tag in swaggerDoc.Tags)
            {
                if (tag.Name is not null && TagDescriptions.TryGetValue(tag.Name, out var description))
                {
                    tag.Description ??= description;
                }
            }
        }

        var schemas = swaggerDoc.Components?.Schemas;
        if (schemas is null)
        {
            return;
        }

        foreach (var schema in schemas.Values)
        {
            if (schema.Properties is null)
            {
                continue;
            }

            foreach (var property in schema.Properties.Values)
            {
                TypeNullableReference(property, schemas);
            }
        }
    }

    private static void TypeNullableReference(IOpenApiSchema property, IDictionary<string, IOpenApiSchema> schemas)
    {
        if (property is not OpenApiSchema concrete
            || concrete.Type != JsonSchemaType.Null
            || concrete.AllOf is not [OpenApiSchemaReference reference]
            || reference.Reference.Id is not { } id
            || !schemas.TryGetValue(id, out var target)
            || target.Type is not { } targetType)
        {
            return;
        }

        concrete.Type = targetType | JsonSchemaType.Null;
    }
}
