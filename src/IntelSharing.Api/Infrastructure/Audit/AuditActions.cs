namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>The <c>action</c> values of audit records, and the resource types they name. Auditors filter on them; they never change meaning.</summary>
public static class AuditActions
{
    public const string AlertRead = "alert.read";
    public const string AlertList = "alert.list";

    /// <summary>A TAXII 2.1 request (discovery, collections, objects, manifest): what it returned is in the detail.</summary>
    public const string TaxiiRead = "taxii.read";

    /// <summary>A TAXII 2.1 add-objects request that created nothing: refused, or an envelope posted again. One that created an alert is recorded as alert.submit.</summary>
    public const string TaxiiWrite = "taxii.write";
    public const string AlertSubmit = "alert.submit";
    public const string AlertUpdate = "alert.update";
    public const string AlertShare = "alert.share";
    public const string AlertRevoke = "alert.revoke";
    public const string AlertVersions = "alert.versions";
    public const string AlertFeedback = "alert.feedback";
    public const string AlertFeedbackList = "alert.feedback.list";
    public const string AlertFeedbackRead = "alert.feedback.read";
    public const string AlertDeliveries = "alert.deliveries";
    public const string AlertCorrelations = "alert.correlations";
    public const string AlertCorrelationsHidden = "alert.correlations.hidden";

    /// <summary>A look-up by indicator (GET /api/v1/indicators, POST /api/v1/indicators/search); the detail names the types searched and the alerts returned.</summary>
    public const string IndicatorSearch = "indicator.search";

    /// <summary>A read of the change feed, as a page or as an event stream (recorded when the stream opens).</summary>
    public const string FeedRead = "feed.read";

    /// <summary>The expiry job purged an alert's personal data (a system action: no agency, key or address).</summary>
    public const string AlertExpire = "alert.expire";

    public const string SubscriptionCreate = "subscription.create";
    public const string SubscriptionList = "subscription.list";
    public const string SubscriptionRead = "subscription.read";
    public const string SubscriptionUpdate = "subscription.update";
    public const string SubscriptionPause = "subscription.pause";
    public const string SubscriptionResume = "subscription.resume";
    public const string SubscriptionDelete = "subscription.delete";
    public const string SubscriptionRotateSecret = "subscription.secret.rotate";
    public const string SubscriptionPing = "subscription.ping";
    public const string SubscriptionHealth = "subscription.health";
    public const string StatisticsRead = "statistics.read";

    public const string DeliveryList = "delivery.list";
    public const string DeliveryRead = "delivery.read";
    public const string DeliveryReplay = "delivery.replay";
    public const string DeliveryBulkReplay = "delivery.replay.bulk";

    // The dispatcher's attempt outcomes (system actions; the agency is the receiving one, the outcome the partner's status).
    public const string DeliveryDelivered = "delivery.delivered";
    public const string DeliveryFailed = "delivery.failed";
    public const string DeliveryDead = "delivery.dead";
    public const string DeliveryCancelled = "delivery.cancelled";

    public const string AuthFailed = "auth.failed";
    public const string AuthForbidden = "auth.forbidden";
    public const string AuthThrottled = "auth.throttled";

    // The console (docs/console.md): its reads and replays are recorded under the API's own actions; these are its sessions.
    public const string ConsoleSignIn = "console.sign_in";
    public const string ConsoleSignOut = "console.sign_out";

    /// <summary>A console session refused because its key was revoked, expired or its agency deactivated; the session ends.</summary>
    public const string ConsoleSessionEnded = "console.session_ended";

    public const string AgencyList = "agency.list";
    public const string AgencyRead = "agency.read";
    public const string AgencyRegister = "agency.register";
    public const string AgencyUpdate = "agency.update";
    public const string AgencyNetworksRead = "agency.networks.read";
    public const string AgencyNetworksSet = "agency.networks.set";
    public const string AgencyDeactivate = "agency.deactivate";
    public const string AgencyActivate = "agency.activate";
    public const string AgencyBootstrap = "agency.bootstrap";

    public const string KeyList = "key.list";
    public const string KeyIssue = "key.issue";
    public const string KeyRevoke = "key.revoke";

    public const string GroupList = "group.list";
    public const string GroupRead = "group.read";
    public const string GroupCreate = "group.create";
    public const string GroupUpdate = "group.update";
    public const string GroupDelete = "group.delete";
    public const string GroupMemberAdd = "group.member.add";
    public const string GroupMemberRemove = "group.member.remove";

    public const string AuditList = "audit.list";
    public const string AuditVerify = "audit.verify";
}

public static class AuditResources
{
    public const string Alert = "alert";
    public const string Agency = "agency";
    public const string ApiKey = "api_key";
    public const string SharingGroup = "sharing_group";
    public const string Subscription = "subscription";
    public const string Delivery = "delivery";
    public const string AuditTrail = "audit_trail";
    public const string Feed = "feed";
    public const string Statistics = "statistics";
}
