using System.Text.Json.Nodes;
using CommunityToolkit.HighPerformance.Buffers;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.Net.Http.Headers;

namespace IntelSharing.Api.Features.Taxii;

/// <summary>
/// What every TAXII 2.1 endpoint shares (OASIS TAXII 2.1 §1.6, §3): the media type, the Accept check (406), the
/// error message resource, and the collections — one per alert category, each the alerts of that category the caller
/// may see.
/// </summary>
public static class TaxiiProtocol
{
    public const string MediaType = "application/taxii+json;version=2.1";

    public const string ApiRoot = "/taxii2/api/";

    public sealed record CollectionResource(string Id, AlertCategory Category, string Title, string Description);

    public static readonly IReadOnlyList<CollectionResource> Collections =
    [
        new(StixIds.Create(CollectionNamespace, "collection:cyber_incident").ToString(), AlertCategory.CyberIncident,
            "Cyber incidents", "The cyber-incident alerts you may see, as STIX 2.1: incidents, indicators, ATT&CK techniques, CVEs."),
        new(StixIds.Create(CollectionNamespace, "collection:migrant_smuggling").ToString(), AlertCategory.MigrantSmuggling,
            "Migrant smuggling", "The migrant-smuggling alerts you may see, as STIX 2.1: networks, routes, crossing points, identifiers."),
    ];

    private static readonly Guid CollectionNamespace = new("9d2b7c1e-4f60-4e2a-8b3d-6a5e0f1c7d42");

    /// <summary>Whether the client accepts TAXII 2.1 (or anything): no Accept, */*, application/*, or the TAXII type without another version.</summary>
    public static bool Accepts(HttpRequest request)
    {
        if (request.Headers.Accept.Count == 0)
        {
            return true;
        }

        return MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
            && accepted.Any(a => a.Quality is not 0
                && (a.MediaType.Equals("*/*", StringComparison.Ordinal) || a.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                    || (a.MediaType.Equals("application/taxii+json", StringComparison.OrdinalIgnoreCase)
                        && a.Parameters.FirstOrDefault(p => p.Name.Equals("version", StringComparison.OrdinalIgnoreCase))?.Value.Value is null or "2.1")));
    }

    public static IResult Ok(JsonNode body, IReadOnlyDictionary<string, string>? headers = null) =>
        Ok(body.ToJsonString(StixDefinitions.Json), headers);

    /// <summary>A resource already written as JSON (a status resource is answered 202).</summary>
    public static IResult Ok(string json, IReadOnlyDictionary<string, string>? headers = null, int statusCode = StatusCodes.Status200OK) =>
        new JsonDocumentResult(json, statusCode) { ContentType = MediaType, Headers = headers };

    /// <summary>A resource written as UTF-8 into a pooled buffer, which the response returns to the pool once sent.</summary>
    public static IResult Ok(ArrayPoolBufferWriter<byte> body, IReadOnlyDictionary<string, string>? headers = null) =>
        new PooledJsonResult(body) { ContentType = MediaType, Headers = headers };

    /// <summary>The TAXII error message resource (§3.6.1), with its optional <c>details</c>.</summary>
    public static IResult Error(int status, string title, string description, JsonObject? details = null)
    {
        var error = new JsonObject { ["title"] = title, ["description"] = description, ["http_status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (details is not null)
        {
            error["details"] = details;
        }

        return new JsonDocumentResult(error.ToJsonString(StixDefinitions.Json), status) { ContentType = MediaType };
    }

    /// <summary>An unknown query parameter is refused in TAXII's own error format, naming it and the parameters that are accepted.</summary>
    public static readonly UnknownQueryParameterAnswer UnknownParameterAnswer = new((unknown, accepted) => Error(
        StatusCodes.Status400BadRequest,
        "Unknown query parameter",
        $"{string.Join(", ", unknown)} {(unknown.Count == 1 ? "is not a parameter" : "are not parameters")} of this endpoint; it accepts {(accepted.Count == 0 ? "none" : string.Join(", ", accepted))}."));

    public static IResult NotAcceptable() =>
        Error(StatusCodes.Status406NotAcceptable, "Not acceptable", $"This server answers {MediaType}; send it (or */*) in Accept.");

    public static IResult CollectionNotFound() =>
        Error(StatusCodes.Status404NotFound, "Collection not found", "There is no such collection, or you may not read it.");

    public static CollectionResource? FindCollection(string id) => Collections.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Whether the caller may add objects to the collection: the cyber-incident collection takes indicators from a key
    /// that may publish alerts (ADR 52); smuggling alerts carry what STIX has no objects for, so they are published
    /// through the REST API only.
    /// </summary>
    public static bool CanWrite(CollectionResource collection, Caller caller) =>
        collection.Category == AlertCategory.CyberIncident && caller.Has(Scopes.AlertsWrite);

    public static JsonObject Describe(CollectionResource collection, Caller caller) => new()
    {
        ["id"] = collection.Id,
        ["title"] = collection.Title,
        ["description"] = collection.Description,
        ["alias"] = WireNames.Of(collection.Category),
        ["can_read"] = true,
        ["can_write"] = CanWrite(collection, caller),
        ["media_types"] = new JsonArray(Stix.ExportAlertStix.StixMediaType),
    };
}
