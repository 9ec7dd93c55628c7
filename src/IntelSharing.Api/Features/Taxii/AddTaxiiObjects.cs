using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.Net.Http.Headers;

namespace IntelSharing.Api.Features.Taxii;

/// <summary>
/// POST /taxii2/api/collections/{id}/objects/ (TAXII 2.1 §5.4) on the cyber-incident collection, and GET
/// /taxii2/api/status/{id}/ (§4.3). An envelope of STIX objects becomes one cyber-incident alert published by the
/// caller's agency through <see cref="SubmitAlert"/> — the same validation, audience, deliveries, audit record and
/// correlation as <c>POST /api/v1/alerts</c> — and the answer is a status resource listing each object's outcome
/// (<see cref="TaxiiEnvelopeReader"/>). The alert is stored before the status is answered, so the status is always
/// <c>complete</c>. The same envelope posted again is the same submission (its Idempotency-Key is the envelope's hash):
/// the same status, no second alert. ADR 52.
/// </summary>
public static class AddTaxiiObjects
{
    private static readonly Guid StatusNamespace = new("3f0c6a52-8d7e-4b1a-9e24-51c7d0b8a9e6");

    public sealed record Command(Caller Caller, TaxiiProtocol.CollectionResource Collection, byte[] Body) : ICommand<IResult>;

    public sealed class Handler(Database database, ISender sender, IValidator<SubmitAlert.Command> validator, TimeProvider time, AuditTrail audit)
        : ICommandHandler<Command, IResult>
    {
        public async ValueTask<IResult> Handle(Command command, CancellationToken cancellationToken)
        {
            if (!TaxiiProtocol.CanWrite(command.Collection, command.Caller))
            {
                return Refused(StatusCodes.Status403Forbidden, "Collection is read only",
                    $"The {command.Collection.Title} collection does not take objects{(command.Collection.Category == AlertCategory.CyberIncident ? ": your key needs the alerts:write scope" : "; add cyber-incident objects to the cyber_incident collection")}.");
            }

            JsonDocument envelope;
            try
            {
                envelope = JsonDocument.Parse(command.Body);
            }
            catch (JsonException exception)
            {
                return Refused(StatusCodes.Status400BadRequest, "Not a TAXII envelope", $"The body is not JSON: {exception.Message}");
            }

            using (envelope)
            {
                if (envelope.RootElement.ValueKind != JsonValueKind.Object
                    || !envelope.RootElement.TryGetProperty("objects", out var objects) || objects.ValueKind != JsonValueKind.Array)
                {
                    return Refused(StatusCodes.Status400BadRequest, "Not a TAXII envelope", "The body must be a TAXII envelope: a JSON object whose objects property is an array of STIX objects.");
                }

                if (objects.GetArrayLength() > TaxiiEnvelopeReader.MaxObjects)
                {
                    return Refused(StatusCodes.Status400BadRequest, "Too many objects",
                        $"An envelope carries at most {TaxiiEnvelopeReader.MaxObjects.ToString(CultureInfo.InvariantCulture)} objects; this one carries {objects.GetArrayLength().ToString(CultureInfo.InvariantCulture)}. Send them in several requests.");
                }

                string country;
                await using (var connection = await database.OpenAsync(cancellationToken))
                {
                    country = await connection.QuerySingleAsync<string>(new CommandDefinition(
                        "SELECT country FROM agencies WHERE id = @id", new { id = command.Caller.AgencyId }, cancellationToken: cancellationToken));
                }

                var reading = TaxiiEnvelopeReader.Read(objects, country);
                return await SubmitAsync(command, reading, cancellationToken);
            }
        }

        private async Task<IResult> SubmitAsync(Command command, TaxiiEnvelopeReader.Reading reading, CancellationToken cancellationToken)
        {
            if (reading.Alert is not { } alert)
            {
                return Refused(StatusCodes.Status400BadRequest, "Nothing to add",
                    "No object of the envelope was taken: an alert needs at least one indicator or an incident. Each object's reason is in details.",
                    FailureDetails(reading.Failures));
            }

            if (alert.Tlp is Tlp.AmberStrict or Tlp.Red)
            {
                return Refused(StatusCodes.Status400BadRequest, "Audience needed",
                    $"The objects are marked TLP:{(alert.Tlp == Tlp.Red ? "RED" : "AMBER+STRICT")}, and such an alert names the agencies it is for, which a STIX envelope cannot say. Publish it through POST /api/v1/alerts with its audience.");
            }

            var key = "taxii:" + Convert.ToHexStringLower(SHA256.HashData(command.Body));
            var submit = new SubmitAlert.Command(command.Caller, alert, key);
            var validation = await validator.ValidateAsync(submit, cancellationToken);
            if (!validation.IsValid)
            {
                var fields = new JsonObject();
                foreach (var field in validation.Errors.GroupBy(e => Infrastructure.Problems.FieldNames.ToJsonPath(e.PropertyName)))
                {
                    fields[field.Key] = new JsonArray([.. field.Select(e => (JsonNode)e.ErrorMessage)]);
                }

                return Refused(StatusCodes.Status400BadRequest, "The alert is invalid",
                    "The objects make an alert that IntelSharing's rules refuse; details names each field as POST /api/v1/alerts would.",
                    new JsonObject { ["fields"] = fields });
            }

            var published = await sender.Send(submit, cancellationToken);
            if (published.Failure is { } failure)
            {
                return Refused(failure.Status, failure.Title, failure.Detail);
            }

            var alertId = published.Value!.Id;
            audit.Annotate(resourceId: alertId);
            var statusId = StixIds.Create(StatusNamespace, $"{command.Caller.AgencyId:D}:{key}");
            var status = new JsonObject
            {
                ["id"] = statusId.ToString(),
                ["status"] = "complete",
                ["request_timestamp"] = StixDefinitions.Timestamp(time.UtcNowMicros()),
                ["total_count"] = reading.Successes.Count + reading.Failures.Count,
                ["success_count"] = reading.Successes.Count,
                ["successes"] = Outcomes(reading.Successes, $" The alert is /api/v1/alerts/{alertId:D}."),
                ["failure_count"] = reading.Failures.Count,
                ["failures"] = Outcomes(reading.Failures),
                ["pending_count"] = 0,
                ["pendings"] = new JsonArray(),
            };

            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO taxii_statuses (id, agency_id, alert_id, created_at, document) VALUES (@statusId, @agency, @alertId, @now, @document)
                ON CONFLICT (id) DO NOTHING
                """,
                new { statusId, agency = command.Caller.AgencyId, alertId, now = time.UtcNowMicros(), document = status.ToJsonString(StixDefinitions.Json) },
                cancellationToken: cancellationToken));
            var stored = await connection.QuerySingleAsync<string>(new CommandDefinition(
                "SELECT document FROM taxii_statuses WHERE id = @statusId", new { statusId }, cancellationToken: cancellationToken));
            return TaxiiProtocol.Ok(stored, statusCode: StatusCodes.Status202Accepted);
        }

        /// <summary>A refusal: nothing was stored; the audit record names the outcome.</summary>
        private IResult Refused(int status, string title, string description, JsonObject? details = null)
        {
            audit.Annotate(detail: new { title });
            return TaxiiProtocol.Error(status, title, description, details);
        }
    }

    public sealed record StatusQuery(Caller Caller, string StatusId) : IQuery<IResult>;

    public sealed class StatusHandler(Database database) : IQueryHandler<StatusQuery, IResult>
    {
        public async ValueTask<IResult> Handle(StatusQuery query, CancellationToken cancellationToken)
        {
            if (!Guid.TryParseExact(query.StatusId, "D", out var id))
            {
                return NotFound();
            }

            await using var connection = await database.OpenAsync(cancellationToken);
            var document = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT document FROM taxii_statuses WHERE id = @id AND agency_id = @agency",
                new { id, agency = query.Caller.AgencyId }, cancellationToken: cancellationToken));
            return document is null ? NotFound() : TaxiiProtocol.Ok(document);
        }

        private static IResult NotFound() =>
            TaxiiProtocol.Error(StatusCodes.Status404NotFound, "Status not found", "There is no such status, or it belongs to another agency's request.");
    }

    private static JsonArray Outcomes(IEnumerable<TaxiiEnvelopeReader.Outcome> outcomes, string suffix = "") =>
        [.. outcomes.Select(o => (JsonNode)new JsonObject { ["id"] = o.Id, ["version"] = o.Version, ["message"] = o.Message + suffix })];

    private static JsonObject FailureDetails(IReadOnlyList<TaxiiEnvelopeReader.Outcome> failures) => new() { ["failures"] = Outcomes(failures) };

    public static void MapAddTaxiiObjects(this RouteGroupBuilder group)
    {
        group.MapPost("/api/collections/{collectionId}/objects/", async (string collectionId, HttpContext context, IMediator mediator) =>
            {
                if (!TaxiiProtocol.Accepts(context.Request))
                {
                    return TaxiiProtocol.NotAcceptable();
                }

                if (TaxiiProtocol.FindCollection(collectionId) is not { } collection)
                {
                    return TaxiiProtocol.CollectionNotFound();
                }

                if (!IsTaxiiContent(context.Request.ContentType))
                {
                    return TaxiiProtocol.Error(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                        $"Send the envelope as {TaxiiProtocol.MediaType}.");
                }

                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
                return await mediator.Send(new Command(Caller.From(context.User), collection, body.ToArray()), context.RequestAborted);
            })
            .RequireAuthorization(Scopes.AlertsWrite)
            .Audited(AuditActions.TaxiiWrite, AuditResources.Alert)
            .WithName("TaxiiAddObjects")
            .WithSummary("Add objects to a collection: an envelope of STIX objects becomes one cyber-incident alert");

        group.MapGet("/api/status/{statusId}/", async (string statusId, HttpContext context, IMediator mediator) =>
                !TaxiiProtocol.Accepts(context.Request)
                    ? TaxiiProtocol.NotAcceptable()
                    : await mediator.Send(new StatusQuery(Caller.From(context.User), statusId), context.RequestAborted))
            .RequireAuthorization(Scopes.AlertsWrite)
            .Audited(AuditActions.TaxiiRead, AuditResources.Alert)
            .WithName("TaxiiStatus")
            .WithSummary("The status of an add-objects request");
    }

    /// <summary>Whether the request's Content-Type is TAXII 2.1's (with no version, or version 2.1).</summary>
    private static bool IsTaxiiContent(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && type.MediaType.Equals("application/taxii+json", StringComparison.OrdinalIgnoreCase)
        && type.Parameters.FirstOrDefault(p => p.Name.Equals("version", StringComparison.OrdinalIgnoreCase))?.Value.Value is null or "2.1";
}
