using System.Data.Common;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>PATCH /api/v1/agencies/{id} — an operator corrects an agency's name, country or kind.</summary>
public static class UpdateAgency
{
    public sealed record Command(Guid Id, AgencyPatch Patch) : ICommand<Result<AgencyView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Patch).Must(p => p.Name is not null || p.Country is not null || p.Kind is not null)
                .OverridePropertyName("body").WithMessage("Send at least one of name, country and kind.");
            RuleFor(c => c.Patch.Name).NotEmpty().MaximumLength(200)
                .SingleLineText()
                .When(c => c.Patch.Name is not null).OverridePropertyName("name");
            RuleFor(c => c.Patch.Country).Must(Countries.IsValid).When(c => c.Patch.Country is not null).OverridePropertyName("country")
                .WithMessage("country must be an ISO 3166-1 alpha-2 code (upper case, e.g. RS).");
        }
    }

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit, ApiKeyLookup keys) : ICommandHandler<Command, Result<AgencyView>>
    {
        public async ValueTask<Result<AgencyView>> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var current = await connection.QuerySingleOrDefaultAsync<AgencyRow>(new CommandDefinition(
                $"SELECT {AgencyRow.Columns} FROM agencies WHERE id = @Id", new { command.Id }, transaction, cancellationToken: cancellationToken));
            if (current is null)
            {
                return Failure.NotFound("agency");
            }

            var before = current.ToView();
            var patch = command.Patch;
            var after = before with
            {
                Name = patch.Name?.Trim() ?? before.Name,
                Country = patch.Country ?? before.Country,
                Kind = patch.Kind ?? before.Kind,
            };
            var changes = new Dictionary<string, object>();
            if (after.Name != before.Name)
            {
                changes["name"] = new { from = before.Name, to = after.Name };
            }

            if (after.Country != before.Country)
            {
                changes["country"] = new { from = before.Country, to = after.Country };
            }

            if (after.Kind != before.Kind)
            {
                changes["kind"] = new { from = WireNames.Of(before.Kind), to = WireNames.Of(after.Kind) };
            }

            if (changes.Count > 0)
            {
                after = after with { UpdatedAt = time.UtcNowMicros() };
                try
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        "UPDATE agencies SET name = @Name, country = @Country, kind = @Kind, updated_at = @UpdatedAt WHERE id = @Id",
                        new { after.Id, after.Name, after.Country, Kind = WireNames.Of(after.Kind), after.UpdatedAt },
                        transaction, cancellationToken: cancellationToken));
                }
                catch (DbException ex) when (database.Dialect.IsUniqueViolation(ex))
                {
                    return Failure.Conflict($"An agency named '{after.Name}' is already registered.");
                }
            }

            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.AgencyUpdate, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Agency,
                ResourceId = after.Id,
                Detail = new { changes },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            if (changes.ContainsKey("name"))
            {
                // Authentication hands the agency's name to every request (originator names); other instances hear the
                // trigger's NOTIFY (migration 0009).
                keys.Invalidate();
            }

            return after;
        }
    }

    public static RouteHandlerBuilder MapUpdateAgency(this RouteGroupBuilder group) => group
        .MapPatch("/{id:guid}", async (Guid id, [FromBody] AgencyPatch patch, IMediator mediator, CancellationToken cancellationToken) =>
        {
            var result = await mediator.Send(new Command(id, patch), cancellationToken);
            return result.Match(TypedResults.Ok).OrProblem<Problem404, Problem409>();
        })
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyUpdate, AuditResources.Agency, "id")
        .WithName("UpdateAgency")
        .WithSummary("Change an agency's name, country or kind")
        .WithDescription("Only the fields sent change. Alerts already published keep the originator and audience names they were published with.")
        .Accepts<AgencyPatch>("application/json", "application/merge-patch+json");
}
