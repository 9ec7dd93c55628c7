using System.Net;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;
using Mediator;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// PUT /api/v1/agencies/{id}/allowed-private-networks — an operator lets one agency's webhooks reach internal networks
/// (its endpoint sits on a private network the deployment can route to). Only that agency's subscriptions, deliveries
/// and pings may then reach them; every other agency still reaches public addresses only. The change is audited with
/// the list before and after, and applies to the next connection (the dispatcher reads it with each claim).
/// </summary>
public static class SetAllowedPrivateNetworks
{
    public sealed record Command(Guid Id, AllowedPrivateNetworksInput Input) : ICommand<Result<AllowedPrivateNetworksView>>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Input.AllowedPrivateNetworks).NotNull().OverridePropertyName("allowedPrivateNetworks")
                .WithMessage("allowedPrivateNetworks is required: a list of CIDR ranges, or [] to remove every allowance.");
            RuleFor(c => c.Input.AllowedPrivateNetworks!.Count).LessThanOrEqualTo(AllowedNetworks.MaxCount)
                .When(c => c.Input.AllowedPrivateNetworks is not null).OverridePropertyName("allowedPrivateNetworks")
                .WithMessage($"At most {AllowedNetworks.MaxCount} networks.");
            RuleForEach(c => c.Input.AllowedPrivateNetworks).Must(BeAnInternalRange)
                .When(c => c.Input.AllowedPrivateNetworks is { Count: <= AllowedNetworks.MaxCount })
                .OverridePropertyName("allowedPrivateNetworks")
                .WithMessage((_, value) => Explain(value));
        }

        private static bool BeAnInternalRange(string? value) => Explain(value) is null;

        private static string? Explain(string? value)
        {
            if (value is null || !IPNetwork.TryParse(value, out var network))
            {
                return $"'{Shorten(value)}' is not a CIDR range such as 10.20.0.0/16.";
            }

            // 10.20.1.0/8 parses as 10.0.0.0/8: refuse it rather than silently allow far more than was written.
            if (!IPAddress.Parse(value[..value.IndexOf('/', StringComparison.Ordinal)]).Equals(network.BaseAddress))
            {
                return $"'{value}' has address bits beyond its prefix; the range it describes is {network}. Write that, or a longer prefix.";
            }

            return OutboundAddressPolicy.IsInternalRange(network)
                ? null
                : $"'{value}' is not inside a loopback, private, link-local or reserved range; public addresses need no allowance, and a wider range would open more than intended.";
        }

        private static string Shorten(string? value) => value is { Length: > 60 } ? value[..60] + "…" : value ?? "null";
    }

    public sealed class Handler(Database database, TimeProvider time, AuditTrail audit) : ICommandHandler<Command, Result<AllowedPrivateNetworksView>>
    {
        public async ValueTask<Result<AllowedPrivateNetworksView>> Handle(Command command, CancellationToken cancellationToken)
        {
            var after = AllowedNetworks.From(command.Input.AllowedPrivateNetworks!.Select(IPNetwork.Parse));
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            var before = await GetAllowedPrivateNetworks.LoadAsync(connection, transaction, command.Id, cancellationToken);
            if (before is null)
            {
                return Failure.NotFound("agency");
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE agencies SET allowed_private_networks = @networks, updated_at = @now WHERE id = @id",
                new { id = command.Id, networks = after.Key, now = time.UtcNowMicros() }, transaction, cancellationToken: cancellationToken));
            var view = GetAllowedPrivateNetworks.View(command.Id, after);
            await audit.RecordAsync(connection, transaction, new AuditEvent(AuditActions.AgencyNetworksSet, StatusCodes.Status200OK)
            {
                ResourceType = AuditResources.Agency,
                ResourceId = command.Id,
                Detail = new { from = GetAllowedPrivateNetworks.View(command.Id, AllowedNetworks.FromColumn(before)).AllowedPrivateNetworks, to = view.AllowedPrivateNetworks },
            }, cancellationToken);
            await write.CommitAsync(cancellationToken);
            return view;
        }
    }

    public static RouteHandlerBuilder MapSetAllowedPrivateNetworks(this RouteGroupBuilder group) => group
        .MapPut("/{id:guid}/allowed-private-networks", async (Guid id, [FromBody] AllowedPrivateNetworksInput input, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new Command(id, input), cancellationToken)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyNetworksSet, AuditResources.Agency, "id")
        .WithName("SetAllowedPrivateNetworks")
        .WithSummary("Let one agency's webhooks reach internal networks")
        .WithDescription("Replaces the list. Each entry is a CIDR range inside a loopback, private, link-local or reserved range; " +
            "only this agency's subscriptions, deliveries and pings may reach it. [] removes every allowance. Audited with the list before and after.");
}
