using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Subscriptions;

namespace IntelSharing.Api.Features;

/// <summary>Every endpoint of the API, listed by hand: one route group per resource, one line per use case.</summary>
public static class Routes
{
    public static void MapApi(this IEndpointRouteBuilder app)
    {
        var alerts = app.MapGroup("/api/v1/alerts").WithTags("Alerts");
        alerts.MapSubmitAlert();
        alerts.MapListAlerts();
        alerts.MapGetAlert();
        alerts.MapUpdateAlert();
        alerts.MapListAlertVersions();
        alerts.MapRevokeAlert();
        alerts.MapShareAlert();
        alerts.MapSubmitFeedback();
        alerts.MapListFeedback();
        alerts.MapListAlertDeliveries();

        var agencies = app.MapGroup("/api/v1/agencies").WithTags("Agencies");
        agencies.MapRegisterAgency();
        agencies.MapListAgencies();
        agencies.MapGetAgency();
        agencies.MapIssueApiKey();
        agencies.MapListApiKeys();
        agencies.MapRevokeApiKey();

        var subscriptions = app.MapGroup("/api/v1/subscriptions").WithTags("Subscriptions");
        subscriptions.MapCreateSubscription();
        subscriptions.MapListSubscriptions();
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
    }
}
