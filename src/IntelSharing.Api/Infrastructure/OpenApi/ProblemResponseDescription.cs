namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Endpoint metadata: what one problem status means on this endpoint, where the general meaning
/// (<see cref="ProblemResponsesOperationFilter"/>) would say less. Set by the slice, so that the OpenAPI filters need
/// not know operations by name.
/// </summary>
public sealed record ProblemResponseDescription(int Status, string Description);
