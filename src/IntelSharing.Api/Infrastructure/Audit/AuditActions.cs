namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>The <c>action</c> values of audit records, and the resource types they name. Auditors filter on them; they never change meaning.</summary>
public static class AuditActions
{
    public const string AlertRead = "alert.read";
    public const string AlertList = "alert.list";
    public const string AlertSubmit = "alert.submit";

    public const string AuthFailed = "auth.failed";
    public const string AuthForbidden = "auth.forbidden";
    public const string AuthThrottled = "auth.throttled";

    public const string AgencyRegister = "agency.register";
    public const string AgencyUpdate = "agency.update";
    public const string AgencyDeactivate = "agency.deactivate";
    public const string AgencyActivate = "agency.activate";
    public const string AgencyBootstrap = "agency.bootstrap";

    public const string KeyIssue = "key.issue";
    public const string KeyRevoke = "key.revoke";

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
    public const string AuditTrail = "audit_trail";
}
