using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Features.Subscriptions;
using IntelSharing.Api.Features.Audit;
using IntelSharing.Api.Features.SharingGroups;
using IntelSharing.Api.Features.Statistics;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Features.Taxii;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features;

/// <summary>
/// Every endpoint of the API, listed by hand: one route group per resource, one line per use case. Every endpoint
/// declares 429: every authenticated request counts towards its agency's rate limit (docs/sharing.md).
/// </summary>
public static class Routes
{
    public static void MapApi(this IEndpointRouteBuilder endpoints)
    {
        // Every route below refuses the query parameters its handler does not declare (400 naming them), and declares the
        // problem responses that filters and middleware write for every endpoint (400, 401, 403, 429).
        var app = endpoints.MapGroup(string.Empty).AddEndpointFilterFactory(UnknownQueryParameters.Refuse).DeclareCommonResponses();

        var alerts = app.MapGroup("/api/v1/alerts").WithTags("Alerts");
        alerts.MapSubmitAlert();
        alerts.MapListAlerts();
        alerts.MapGetAlert();
        alerts.MapExportAlertStix();
        alerts.MapUpdateAlert();
        alerts.MapListAlertVersions();
        alerts.MapRevokeAlert();
        alerts.MapShareAlert();
        alerts.MapSubmitFeedback();
        alerts.MapListFeedback();
        alerts.MapGetFeedback();
        alerts.MapListAlertDeliveries();
        alerts.MapListCorrelations();
        alerts.MapListHiddenCorrelations();

        var indicators = app.MapGroup("/api/v1/indicators").WithTags("Indicators");
        indicators.MapLookUpIndicator();
        indicators.MapSearchIndicators();

        var feed = app.MapGroup("/api/v1/feed").WithTags("Feed");
        feed.MapReadFeed();

        var agencies = app.MapGroup("/api/v1/agencies").WithTags("Agencies");
        agencies.MapRegisterAgency();
        agencies.MapListAgencies();
        agencies.MapGetAgency();
        agencies.MapUpdateAgency();
        agencies.MapGetAllowedPrivateNetworks();
        agencies.MapSetAllowedPrivateNetworks();
        agencies.MapDeactivateAgency();
        agencies.MapActivateAgency();
        agencies.MapIssueApiKey();
        agencies.MapListApiKeys();
        agencies.MapListOwnApiKeys();
        agencies.MapRevokeApiKey();

        var subscriptions = app.MapGroup("/api/v1/subscriptions").WithTags("Subscriptions");
        subscriptions.MapCreateSubscription();
        subscriptions.MapListSubscriptions();
        subscriptions.MapListPartnerHealth();
        subscriptions.MapGetSubscription();
        subscriptions.MapUpdateSubscription();
        subscriptions.MapPauseSubscription();
        subscriptions.MapResumeSubscription();
        subscriptions.MapDeleteSubscription();
        subscriptions.MapRotateSubscriptionSecret();
        subscriptions.MapPingSubscription();

        var deliveries = app.MapGroup("/api/v1/deliveries").WithTags("Deliveries");
        deliveries.MapListDeliveries();
        deliveries.MapGetDelivery();
        deliveries.MapReplayDelivery();
        deliveries.MapBulkReplay();
        var sharingGroups = app.MapGroup("/api/v1/sharing-groups").WithTags("Sharing groups");
        sharingGroups.MapCreateSharingGroup();
        sharingGroups.MapListSharingGroups();
        sharingGroups.MapGetSharingGroup();
        sharingGroups.MapUpdateSharingGroup();
        sharingGroups.MapDeleteSharingGroup();
        sharingGroups.MapAddSharingGroupMember();
        sharingGroups.MapRemoveSharingGroupMember();

        // TAXII 2.1 (docs/stix-taxii.md): its own media type and error messages, the same keys and sharing policy.
        // It is described by the OASIS TAXII 2.1 specification, not by the OpenAPI document of the REST API.
        var taxii = app.MapGroup("/taxii2").ExcludeFromDescription().WithMetadata(TaxiiProtocol.UnknownParameterAnswer);
        taxii.MapTaxiiDiscovery();
        taxii.MapGetTaxiiObjects();
        taxii.MapAddTaxiiObjects();

        var statistics = app.MapGroup("/api/v1/statistics").WithTags("Statistics");
        statistics.MapReadStatistics();

        var audit = app.MapGroup("/api/v1/audit").WithTags("Audit");
        audit.MapListAuditRecords();
        audit.MapVerifyAuditChain();
    }
}
