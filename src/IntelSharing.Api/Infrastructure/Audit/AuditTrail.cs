using System.Data.Common;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>What happened, in the terms of an audit record; who and from where is filled in from the request.</summary>
public sealed record AuditEvent(string Action, int Outcome)
{
    public string? ResourceType { get; init; }

    public Guid? ResourceId { get; init; }

    /// <summary>Serialised as a JSON object into the record's <c>detail</c>.</summary>
    public object? Detail { get; init; }

    /// <summary>
    /// Set when the request is not authenticated but the agency is known (a revoked key's agency), or, for what the
    /// service does on its own (<see cref="AuditWriter.RecordSystemAsync"/>), the agency the action concerns.
    /// </summary>
    public Guid? AgencyId { get; init; }

    /// <summary>Set when the request is not authenticated but presented a well-formed key.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>The stated purpose when it came other than in the X-Purpose header (a console form field).</summary>
    public string? Purpose { get; init; }
}

/// <summary>
/// The audit trail of one request. Writes record themselves inside their own transaction
/// (<see cref="RecordAsync(DbConnection, DbTransaction, AuditEvent, CancellationToken)"/>); reads and failed
/// requests are recorded by <see cref="AuditedEndpointFilter"/>, with any <see cref="Annotate"/>d detail, before
/// the response is written, so nothing is disclosed without its record.
/// </summary>
public sealed class AuditTrail(IHttpContextAccessor accessor, CommitGroup<AuditRecord, bool, AuditRecordCommits> standalone, TimeProvider time)
{
    private Guid? _resourceId;
    private object? _detail;

    /// <summary>Whether this request already has its record (the endpoint filter then adds none).</summary>
    public bool HasRecorded { get; private set; }

    /// <summary>Adds what only the handler knows to the record the endpoint filter will write.</summary>
    public void Annotate(Guid? resourceId = null, object? detail = null)
    {
        _resourceId = resourceId ?? _resourceId;
        _detail = detail ?? _detail;
    }

    internal Guid? AnnotatedResourceId => _resourceId;

    internal object? AnnotatedDetail => _detail;

    public async Task RecordAsync(DbConnection connection, DbTransaction? transaction, AuditEvent audit, CancellationToken cancellationToken)
    {
        await AuditWriter.InsertAsync(connection, transaction, Build(audit), cancellationToken);
        HasRecorded = true;
    }

    /// <summary>
    /// Adds the record to the batch of the transaction it belongs to. Call <see cref="Committed"/> once that transaction
    /// has committed: until then the request has no record (a rolled-back batch leaves it to the endpoint filter).
    /// </summary>
    public void AddTo(SqlBatch batch, AuditEvent audit) => AuditWriter.AddTo(batch, Build(audit));

    /// <summary>The batch holding this request's record (<see cref="AddTo"/>) has committed.</summary>
    public void Committed() => HasRecorded = true;

    /// <summary>
    /// Records an event that has no transaction of its own (a read, a refusal), in a commit group with other
    /// requests' records; returns once it is durable. Not cancellable: the record of what was answered must exist.
    /// </summary>
    public async Task RecordAsync(AuditEvent audit)
    {
        await standalone.CommitAsync(Build(audit));
        HasRecorded = true;
    }

    /// <summary>This request's record of <paramref name="audit"/>, for a slice that writes it in its own commit group.</summary>
    public AuditRecord Build(AuditEvent audit) =>
        AuditWriter.Build(audit, accessor.HttpContext is { } context ? RequestOrigin.From(context) : RequestOrigin.System, time.UtcNowMicros());
}
