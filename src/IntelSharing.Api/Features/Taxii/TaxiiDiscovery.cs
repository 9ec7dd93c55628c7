using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Features.Taxii;

/// <summary>GET /taxii2/ (server discovery), GET /taxii2/api/ (the one API root), its collections and one collection.</summary>
public static class TaxiiDiscovery
{
    public static void MapTaxiiDiscovery(this RouteGroupBuilder group)
    {
        group.MapGet("/", (HttpContext context) => !TaxiiProtocol.Accepts(context.Request)
                ? TaxiiProtocol.NotAcceptable()
                : TaxiiProtocol.Ok(new JsonObject
                {
                    ["title"] = "IntelSharing TAXII 2.1",
                    ["description"] = "The alerts your agency may see, as STIX 2.1, under the same sharing rules as the REST API.",
                    ["default"] = TaxiiProtocol.ApiRoot,
                    ["api_roots"] = new JsonArray(TaxiiProtocol.ApiRoot),
                }))
            .RequireAuthorization(Scopes.AlertsRead)
            .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
            .WithName("TaxiiDiscovery")
            .WithSummary("TAXII 2.1 server discovery");

        group.MapGet("/api/", (HttpContext context) => !TaxiiProtocol.Accepts(context.Request)
                ? TaxiiProtocol.NotAcceptable()
                : TaxiiProtocol.Ok(new JsonObject
                {
                    ["title"] = "IntelSharing alerts",
                    ["versions"] = new JsonArray(TaxiiProtocol.MediaType),
                    ["max_content_length"] = Infrastructure.Problems.RequestBodyLimit.MaxBytes,
                }))
            .RequireAuthorization(Scopes.AlertsRead)
            .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
            .WithName("TaxiiApiRoot")
            .WithSummary("The TAXII 2.1 API root");

        group.MapGet("/api/collections/", (HttpContext context) => !TaxiiProtocol.Accepts(context.Request)
                ? TaxiiProtocol.NotAcceptable()
                : TaxiiProtocol.Ok(new JsonObject
                {
                    ["collections"] = new JsonArray([.. TaxiiProtocol.Collections.Select(c => (JsonNode)TaxiiProtocol.Describe(c, Caller.From(context.User)))]),
                }))
            .RequireAuthorization(Scopes.AlertsRead)
            .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
            .WithName("TaxiiCollections")
            .WithSummary("The TAXII collections: one per alert category");

        group.MapGet("/api/collections/{collectionId}/", (string collectionId, HttpContext context) =>
                !TaxiiProtocol.Accepts(context.Request) ? TaxiiProtocol.NotAcceptable()
                : TaxiiProtocol.FindCollection(collectionId) is { } collection ? TaxiiProtocol.Ok(TaxiiProtocol.Describe(collection, Caller.From(context.User)))
                : TaxiiProtocol.CollectionNotFound())
            .RequireAuthorization(Scopes.AlertsRead)
            .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
            .WithName("TaxiiCollection")
            .WithSummary("One TAXII collection");
    }
}
