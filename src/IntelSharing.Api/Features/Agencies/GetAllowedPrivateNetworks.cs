using Dapper;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// GET /api/v1/agencies/{id}/allowed-private-networks — the internal networks an agency's webhooks may reach. Operators
/// only: unlike the partner directory, this describes networks behind the partners' perimeters.
/// </summary>
public static class GetAllowedPrivateNetworks
{
    public sealed record Query(Guid Id) : IQuery<Result<AllowedPrivateNetworksView>>;

    public sealed class Handler(Database database) : IQueryHandler<Query, Result<AllowedPrivateNetworksView>>
    {
        public async ValueTask<Result<AllowedPrivateNetworksView>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var column = await LoadAsync(connection, null, query.Id, cancellationToken);
            return column is null ? Failure.NotFound("agency") : View(query.Id, AllowedNetworks.FromColumn(column));
        }
    }

    /// <summary>The stored allowance of an agency, or null when there is no such agency.</summary>
    public static Task<string?> LoadAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, Guid agencyId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT allowed_private_networks FROM agencies WHERE id = @agencyId",
            new { agencyId }, transaction, cancellationToken: cancellationToken));

    public static AllowedPrivateNetworksView View(Guid agencyId, AllowedNetworks networks) =>
        new(agencyId, networks.Networks.Select(n => n.ToString()).ToList());

    public static RouteHandlerBuilder MapGetAllowedPrivateNetworks(this RouteGroupBuilder group) => group
        .MapGet("/{id:guid}/allowed-private-networks", async (Guid id, IMediator mediator, CancellationToken cancellationToken) =>
            (await mediator.Send(new Query(id), cancellationToken)).Match(TypedResults.Ok).OrProblem<Problem404>())
        .RequireAuthorization(Scopes.AgenciesAdmin)
        .Audited(AuditActions.AgencyNetworksRead, AuditResources.Agency, "id")
        .WithName("GetAllowedPrivateNetworks")
        .WithSummary("Read the internal networks an agency's webhooks may reach")
        .WithDescription("The internal CIDR ranges this agency's webhooks may reach although they are private (docs/webhooks.md). Operators only: it describes networks behind the partners' perimeters.");
}
