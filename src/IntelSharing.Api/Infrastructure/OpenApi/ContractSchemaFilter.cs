using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Tells the schemas what the serializer guarantees and Swashbuckle cannot see:
/// a property that can never be null is always written (nulls are omitted), so it is required;
/// scopes are one of a known set; problem responses carry a <c>traceId</c> and a <c>type</c> from docs/problems.md.
/// </summary>
public sealed class ContractSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || concrete.Properties is null)
        {
            return;
        }

        if (context.Type == typeof(ProblemDetails) || context.Type == typeof(HttpValidationProblemDetails))
        {
            DescribeProblem(concrete);
            if (context.Type == typeof(HttpValidationProblemDetails))
            {
                concrete.Properties["errorsTruncated"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Boolean,
                    Description = "Present and true when the request had more than 50 errors: only the first 50 are in errors (docs/problems.md).",
                };
            }

            return;
        }

        RequireNonNullable(concrete, context.Type);
        if (context.Type.IsDefined(typeof(ListsScopesAttribute), inherit: false))
        {
            RestrictScopes(concrete);
        }
    }

    private static void RequireNonNullable(OpenApiSchema schema, Type type)
    {
        JsonTypeInfo info;
        try
        {
            info = JsonDefaults.Options.GetTypeInfo(type);
        }
        catch (NotSupportedException)
        {
            // Not something the serializer writes (a stream, a form file): nothing to tell.
            return;
        }

        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (!property.IsGetNullable && schema.Properties!.ContainsKey(property.Name))
            {
                schema.Required ??= new SortedSet<string>(StringComparer.Ordinal);
                schema.Required.Add(property.Name);
            }

            if (ClosedSetOf(property, type) is { } closedSet && schema.Properties!.TryGetValue(property.Name, out var found) && found is OpenApiSchema target)
            {
                var values = (target.Items as OpenApiSchema) ?? target;
                values.Enum = [.. closedSet.Values().Select(v => (JsonNode)JsonValue.Create(v))];
            }
        }
    }

    /// <summary>The property's <see cref="ClosedSetAttribute"/>, on the property or, for a positional record, on its constructor parameter.</summary>
    private static ClosedSetAttribute? ClosedSetOf(JsonPropertyInfo property, Type type) =>
        property.AttributeProvider?.GetCustomAttributes(typeof(ClosedSetAttribute), inherit: false).OfType<ClosedSetAttribute>().FirstOrDefault()
        ?? type.GetConstructors().SelectMany(c => c.GetParameters())
            .FirstOrDefault(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase))
            ?.GetCustomAttributes(typeof(ClosedSetAttribute), inherit: false).OfType<ClosedSetAttribute>().FirstOrDefault();

    private static void RestrictScopes(OpenApiSchema schema)
    {
        if (schema.Properties!.TryGetValue("scopes", out var scopes) && scopes.Items is OpenApiSchema items)
        {
            items.Enum = [.. Scopes.All.Select(s => (JsonNode)JsonValue.Create(s))];
        }
    }

    private static void DescribeProblem(OpenApiSchema schema)
    {
        if (schema.Properties!.TryGetValue("type", out var type) && type is OpenApiSchema typeSchema)
        {
            typeSchema.Description = "What went wrong, as a stable URN (urn:intelsharing:problem:…) listed in docs/problems.md. Branch on this, not on title or detail.";
        }

        if (schema.Properties.TryGetValue("instance", out var instance) && instance is OpenApiSchema instanceSchema)
        {
            instanceSchema.Description = "The request path.";
        }

        schema.Properties["traceId"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "W3C trace id of the request; quote it when reporting a problem.",
        };
    }
}
