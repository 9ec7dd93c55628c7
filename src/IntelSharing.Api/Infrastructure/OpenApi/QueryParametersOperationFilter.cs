using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Json;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// The alert listing binds its query parameters as text so that the validator can name every mistake; the
/// document describes what they accept instead of "any string".
/// </summary>
public sealed class QueryParametersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.OperationId != "ListAlerts" || operation.Parameters is null)
        {
            return;
        }

        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>())
        {
            (parameter.Description, parameter.Schema, parameter.Example) = parameter.Name switch
            {
                "category" => (
                    $"One category or several, comma-separated: {string.Join(", ", WireNames.All<AlertCategory>())}.",
                    Text(), JsonValue.Create(WireNames.Of(AlertCategory.MigrantSmuggling))),
                "severity" => (
                    $"One severity or several, comma-separated: {string.Join(", ", WireNames.All<Severity>())}.",
                    Text(), JsonValue.Create("high,critical")),
                "minSeverity" => (
                    "Only alerts at least this severe.",
                    new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. WireNames.All<Severity>().Select(s => (JsonNode)JsonValue.Create(s))] },
                    JsonValue.Create(WireNames.Of(Severity.Medium))),
                "country" => (
                    "One ISO 3166-1 alpha-2 code or several, comma-separated: alerts concerning any of them.",
                    Text(), JsonValue.Create("RS,HU")),
                "updatedAfter" => (
                    "Only alerts changed after this instant (RFC 3339).",
                    new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" }, JsonValue.Create("2026-11-01T00:00:00Z")),
                "q" => (
                    $"Full-text search: active alerts whose text holds every word, best match first. At most {AlertSearch.MaxQueryLength} characters and {AlertSearch.MaxQueryTerms} words; " +
                    "Cyrillic or Latin, capitals and accents do not matter (Београд = Beograd, Đorđe = Djordje = Dorde); punctuation and search syntax are plain text.",
                    new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = AlertSearch.MaxQueryLength }, JsonValue.Create("Horgoš Kurdish")),
                "cursor" => (
                    "nextCursor from the previous page, with the same filters. Opaque: do not build or change it.",
                    new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 }, null),
                "limit" => (
                    $"Alerts per page, 1 to {ListAlerts.MaxLimit}.",
                    new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = ListAlerts.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), Default = ListAlerts.DefaultLimit },
                    null),
                _ => (parameter.Description, parameter.Schema, parameter.Example),
            };
        }
    }

    private static OpenApiSchema Text() => new() { Type = JsonSchemaType.String };
}
