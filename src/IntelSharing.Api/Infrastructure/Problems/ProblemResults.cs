using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// A problem response whose status is part of its type, so that an endpoint returning it in a <c>Results&lt;…&gt;</c>
/// union declares that response in the OpenAPI document without a hand-written <c>.ProducesProblem</c> line.
/// </summary>
public interface IFixedStatusProblem<TSelf> where TSelf : IFixedStatusProblem<TSelf>
{
    static abstract int Status { get; }

    static abstract TSelf From(Failure failure);
}

/// <summary>
/// Writes a handler's <see cref="Failure"/> through the problem details service (trace id, instance), and hands the
/// problem to whoever looks inside the result (the audit filter records its type and fields).
/// </summary>
public abstract class ProblemResult(Failure failure) : IResult, IStatusCodeHttpResult, INestedHttpResult
{
    private readonly ProblemHttpResult problem = failure.ToProblem();

    public int? StatusCode => problem.StatusCode;

    public IResult Result => problem;

    public Task ExecuteAsync(HttpContext httpContext) => problem.ExecuteAsync(httpContext);

    /// <summary>What <c>.ProducesProblem(status)</c> declares: the status, <see cref="ProblemDetails"/>, application/problem+json.</summary>
    protected static void Declare(EndpointBuilder builder, int status) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [ProblemMediaType]));

    public const string ProblemMediaType = "application/problem+json";
}

/// <summary>404: no such resource, or one the caller may not see (the two are answered alike).</summary>
public sealed class Problem404(Failure failure) : ProblemResult(failure), IFixedStatusProblem<Problem404>, IEndpointMetadataProvider
{
    public static int Status => StatusCodes.Status404NotFound;

    public static Problem404 From(Failure failure) => new(failure);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, Status);
}

/// <summary>409: the request conflicts with the resource's current state.</summary>
public sealed class Problem409(Failure failure) : ProblemResult(failure), IFixedStatusProblem<Problem409>, IEndpointMetadataProvider
{
    public static int Status => StatusCodes.Status409Conflict;

    public static Problem409 From(Failure failure) => new(failure);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, Status);
}

/// <summary>412: the If-Match ETag is no longer the current one.</summary>
public sealed class Problem412(Failure failure) : ProblemResult(failure), IFixedStatusProblem<Problem412>, IEndpointMetadataProvider
{
    public static int Status => StatusCodes.Status412PreconditionFailed;

    public static Problem412 From(Failure failure) => new(failure);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, Status);
}

/// <summary>428: a conditional request (If-Match) is required.</summary>
public sealed class Problem428(Failure failure) : ProblemResult(failure), IFixedStatusProblem<Problem428>, IEndpointMetadataProvider
{
    public static int Status => StatusCodes.Status428PreconditionRequired;

    public static Problem428 From(Failure failure) => new(failure);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, Status);
}

/// <summary>
/// A handler's failure with a status every endpoint of the API can answer and declares once
/// (<see cref="OpenApi.CommonResponses"/>): 400 naming a field, 403 for a caller the handler refuses, 429. It declares
/// nothing itself; a status outside that set is still answered as the handler said, never turned into a 500.
/// </summary>
public sealed class CommonProblem(Failure failure) : ProblemResult(failure);
