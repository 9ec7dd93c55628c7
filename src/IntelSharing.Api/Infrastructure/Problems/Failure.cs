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

    public IResult Match(Func<T, IResult> onSuccess) => Failure is null ? onSuccess(Value!) : Failure.ToProblem();
}
