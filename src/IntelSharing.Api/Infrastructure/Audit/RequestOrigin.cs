using System.Globalization;
using System.Net;
using System.Security.Claims;
using IntelSharing.Api.Infrastructure.Security;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>Who is behind a request, as audit records name them: the agency and key (when authenticated), the stated purpose, the client address.</summary>
public sealed record RequestOrigin(Guid? AgencyId, string? KeyPrefix, string? Purpose, string? ClientIp)
{
    public const string PurposeHeader = "X-Purpose";

    /// <summary>The service itself (a background job): no agency, key, purpose or address.</summary>
    public static readonly RequestOrigin System = new(null, null, null, null);

    /// <summary>
    /// How problem responses name the header in <c>errors</c>: header names are case-insensitive, and error keys
    /// are written camel-cased, so the lower-case form is the one that reaches clients unchanged.
    /// </summary>
    public const string PurposeField = "x-purpose";

    public static RequestOrigin From(HttpContext context)
    {
        var user = context.User;
        Guid? agencyId = Guid.TryParse(user.FindFirstValue(Caller.AgencyIdClaim), CultureInfo.InvariantCulture, out var id) ? id : null;
        var purpose = PurposeOf(context.Request);
        return new RequestOrigin(
            agencyId,
            agencyId is null ? null : user.FindFirstValue(Caller.KeyPrefixClaim),
            purpose is { Length: > AuditWriter.MaxPurposeLength } ? purpose[..AuditWriter.MaxPurposeLength] : purpose,
            ClientAddress(context));
    }

    /// <summary>The X-Purpose header, trimmed; null when absent or blank.</summary>
    public static string? PurposeOf(HttpRequest request) => CleanPurpose(request.Headers[PurposeHeader].ToString());

    /// <summary>A stated purpose, trimmed; null when absent or blank.</summary>
    public static string? CleanPurpose(string? header) => string.IsNullOrWhiteSpace(header) ? null : header.Trim();

    /// <summary>
    /// The address the connection came from (behind a proxy, configure forwarded headers so that this is the
    /// client's). IPv4 clients on a dual-stack socket are shown as IPv4.
    /// </summary>
    public static string? ClientAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return null;
        }

        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    /// <summary>The key used to throttle a client by address; all unknown addresses share one.</summary>
    public static string ClientKey(HttpContext context) => ClientAddress(context) ?? IPAddress.None.ToString();
}
