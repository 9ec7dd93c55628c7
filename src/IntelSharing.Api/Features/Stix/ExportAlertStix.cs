using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// GET /api/v1/alerts/{id}/stix, and GET /api/v1/alerts/{id} with Accept: application/stix+json;version=2.1 — the
/// current version as a STIX 2.1 bundle. It is the JSON read (<see cref="GetAlert"/>) in another representation: the
/// same query decides with the sharing policy (404 for a caller who may not see it), the same X-Purpose rule
/// applies to persons, and the same audit record (<c>alert.read</c>) is written.
/// </summary>
public static class ExportAlertStix
{
    public const string StixMediaType = "application/stix+json;version=2.1";

    /// <summary>Whether the request asks for STIX 2.1 (a STIX media type without a version means the current one).</summary>
    public static bool AcceptsStix(HttpRequest request) =>
        MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
        && accepted.Any(a => a.MediaType.Equals("application/stix+json", StringComparison.OrdinalIgnoreCase)
            && a.Quality is not 0
            && (a.Parameters.FirstOrDefault(p => p.Name.Equals("version", StringComparison.OrdinalIgnoreCase))?.Value.Value is null or "2.1"));

    public static async Task<Results<JsonDocumentResult, Problem404, CommonProblem>> ExportAsync(Guid id, string? purpose, HttpContext context, IMediator mediator)
    {
        var result = await mediator.Send(
            new GetAlert.Query(Caller.From(context.User), id, RequestOrigin.CleanPurpose(purpose), WithRevokedContent: true), context.RequestAborted);
        return result.Match(found =>
        {
            var bundle = AlertStixObjects.Bundle(id, found.Version, ObjectsOf(found));
            return new JsonDocumentResult(bundle.ToJsonString(StixDefinitions.Json)) { ContentType = StixMediaType };
        }).OrProblem<Problem404>();
    }

    /// <summary>The STIX objects of the version the read returned (the caller passed the persons rule if it names any).</summary>
    public static List<JsonObject> ObjectsOf(GetAlert.Found found)
    {
        using var document = JsonDocument.Parse(found.Document);
        var status = document.RootElement.GetProperty("status").GetString();
        if (status == WireNames.Of(AlertStatus.Active))
        {
            return AlertStixObjects.FromAlert(document.RootElement.Deserialize<AlertView>(JsonDefaults.Options)!, revokedAt: null, includePersons: true);
        }

        var tombstone = document.RootElement.Deserialize<AlertTombstone>(JsonDefaults.Options)!;
        if (found.RevokedContent is not null)
        {
            var lastContent = JsonSerializer.Deserialize<AlertView>(found.RevokedContent, JsonDefaults.Options)!;
            if (lastContent.Status == AlertStatus.Active)
            {
                return AlertStixObjects.FromAlert(lastContent, tombstone.UpdatedAt, includePersons: false);
            }
        }

        return AlertStixObjects.FromTombstone(tombstone, found.Tlp);
    }

    public static RouteHandlerBuilder MapExportAlertStix(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/stix", (Guid id, [FromHeader(Name = RequestOrigin.PurposeHeader)] string? purpose, HttpContext context, IMediator mediator) =>
            ExportAsync(id, purpose, context, mediator))
        .RequireAuthorization(Scopes.AlertsRead)
        .Audited(AuditActions.AlertRead, AuditResources.Alert, "id")
        .WithName("ExportAlertStix")
        .WithMetadata(DocumentedExample.Response(StatusCodes.Status200OK, "smugglingReport",
            "An amber smuggling alert as a STIX 2.1 bundle (shortened to its marking, identity and report)", ContractExamples.StixBundle, "application/stix+json;version=2.1"))
        .WithSummary("Read an alert as a STIX 2.1 bundle")
        .WithDescription("The current version as STIX 2.1 (application/stix+json;version=2.1), for tools that cannot set Accept; the same as GET /api/v1/alerts/{id} " +
            "with that Accept header. Same rules as the JSON read: 404 for an alert you may not see, X-Purpose for one naming persons, audited as alert.read. " +
            "Ids are stable (UUIDv5 from the alert id), so a re-export updates a partner's copy; a revoked alert exports its objects with revoked: true. " +
            "Mapping and extensions: docs/stix-taxii.md.")
        // Declared by hand (ADR 42): the bundle is written as stored JSON in STIX's own media type.
        .Produces<StixBundle>(StatusCodes.Status200OK, StixMediaType);
}

/// <summary>A STIX 2.1 bundle (OASIS STIX 2.1 §8): the alert's objects, each validating against its type's OASIS schema.</summary>
public sealed record StixBundle
{
    /// <summary>Always <c>bundle</c>.</summary>
    public required string Type { get; init; }

    /// <summary><c>bundle--</c> and a UUID, stable for one alert version.</summary>
    public required string Id { get; init; }

    /// <summary>Marking definitions, identities, extension definitions, report, incident or intrusion-set, indicators, observables, relationships…</summary>
    public required IReadOnlyList<JsonElement> Objects { get; init; }
}
