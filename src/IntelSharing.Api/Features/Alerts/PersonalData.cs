using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// Reading personal data needs a stated purpose (Directive 2016/680 Art. 25: logs of consultation must show
/// its justification). A read that would disclose an alert naming persons without an X-Purpose header is a
/// 400; the purpose given is stored in the read's audit record.
/// </summary>
public static class PersonalData
{
    /// <summary>Whether the alert's current version names persons, read from the stored document (<c>-&gt;</c> works on PostgreSQL json and SQLite alike).</summary>
    public static string NamesPersonsSql(string alert) => $"(({alert}.document -> 'persons' -> 0) IS NOT NULL)";

    public static Failure PurposeRequired(string what) => Failure.Invalid(
        RequestOrigin.PurposeField,
        $"{what} names persons: send the purpose of this consultation in the {RequestOrigin.PurposeHeader} header (at most {AuditWriter.MaxPurposeLength} characters). It is kept in the audit trail.");
}
