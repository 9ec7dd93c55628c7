using Microsoft.AspNetCore.Http.HttpResults;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// An expected outcome that is not success: not found, conflict, precondition failed, forbidden.
/// Handlers return these as values; endpoints turn them into problem responses.
/// </summary>
public sealed record Failure(
    int Status, string Type, string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null, IReadOnlyDictionary<string, object?>? Extensions = null)
{
    public static Failure NotFound(string what) =>
        new(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not found", $"No {what} with that id is visible to you.");

    public static Failure Conflict(string detail) =>
        new(StatusCodes.Status409Conflict, ProblemTypes.Conflict, "Conflict", detail);

    public static Failure Forbidden(string detail) =>
        new(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "Forbidden", detail);

    public static Failure PreconditionFailed(string detail) =>
        new(StatusCodes.Status412PreconditionFailed, ProblemTypes.PreconditionFailed, "Precondition failed", detail);

    public static Failure Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, ProblemTypes.Validation, "The request is invalid", message,
            new Dictionary<string, string[]> { [field] = [message] });

    public ProblemHttpResult ToProblem()
    {
        var extensions = Extensions is null ? null : new Dictionary<string, object?>(Extensions);
        if (Errors is not null)
        {
            extensions ??= [];
            extensions["errors"] = Errors;
        }

        return TypedResults.Problem(detail: Detail, statusCode: Status, title: Title, type: Type, extensions: extensions);
    }
}

/// <summary>A handler's answer: either a value or a <see cref="Failure"/>.</summary>
public readonly record struct Result<T>
{
    private Result(T? value, Failure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public Failure? Failure { get; }

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Failure failure) => new(default, failure);

    /// <summary>
    /// The success answer, or the failure; <c>.OrProblem&lt;Problem404, …&gt;()</c> then names the problem statuses the
    /// endpoint answers, so that its return type declares every response it gives.
    /// </summary>
    public Answer<TSuccess> Match<TSuccess>(Func<T, TSuccess> onSuccess) where TSuccess : IResult =>
        Failure is null ? new Answer<TSuccess>(onSuccess(Value!), null) : new Answer<TSuccess>(default, Failure);
}

/// <summary>A success result or a failure, not yet given the problem types that write the failure.</summary>
public readonly struct Answer<TSuccess> where TSuccess : IResult
{
    private readonly TSuccess? success;
    private readonly Failure? failure;

    internal Answer(TSuccess? success, Failure? failure)
    {
        this.success = success;
        this.failure = failure;
    }

    /// <summary>For an endpoint whose handler fails only with the statuses every endpoint declares (400, 403, 429).</summary>
    public Results<TSuccess, CommonProblem> OrProblem() =>
        failure is null ? success! : new CommonProblem(failure);

    public Results<TSuccess, TProblem1, CommonProblem> OrProblem<TProblem1>()
        where TProblem1 : ProblemResult, IFixedStatusProblem<TProblem1>
    {
        if (failure is null)
        {
            return success!;
        }

        return failure.Status == TProblem1.Status ? TProblem1.From(failure) : new CommonProblem(failure);
    }

    public Results<TSuccess, TProblem1, TProblem2, CommonProblem> OrProblem<TProblem1, TProblem2>()
        where TProblem1 : ProblemResult, IFixedStatusProblem<TProblem1>
        where TProblem2 : ProblemResult, IFixedStatusProblem<TProblem2>
    {
        if (failure is null)
        {
            return success!;
        }

        return failure.Status == TProblem1.Status ? TProblem1.From(failure)
            : failure.Status == TProblem2.Status ? TProblem2.From(failure)
            : new CommonProblem(failure);
    }

    public Results<TSuccess, TProblem1, TProblem2, TProblem3, TProblem4, CommonProblem> OrProblem<TProblem1, TProblem2, TProblem3, TProblem4>()
        where TProblem1 : ProblemResult, IFixedStatusProblem<TProblem1>
        where TProblem2 : ProblemResult, IFixedStatusProblem<TProblem2>
        where TProblem3 : ProblemResult, IFixedStatusProblem<TProblem3>
        where TProblem4 : ProblemResult, IFixedStatusProblem<TProblem4>
    {
        if (failure is null)
        {
            return success!;
        }

        return failure.Status == TProblem1.Status ? TProblem1.From(failure)
            : failure.Status == TProblem2.Status ? TProblem2.From(failure)
            : failure.Status == TProblem3.Status ? TProblem3.From(failure)
            : failure.Status == TProblem4.Status ? TProblem4.From(failure)
            : new CommonProblem(failure);
    }
}
