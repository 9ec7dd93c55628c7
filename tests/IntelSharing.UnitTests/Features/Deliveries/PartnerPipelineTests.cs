using IntelSharing.Api.Features.Deliveries.Dispatch;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Polly.Testing;
using Polly.Timeout;

namespace IntelSharing.UnitTests.Features.Deliveries;

public sealed class PartnerPipelineTests
{
    private static ResiliencePipeline<HttpResponseMessage> Build(DeliveryOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        PartnerHttp.ConfigurePipeline(builder, options, new PartnerBreakers(new FakeTimeProvider()), "https://partner.example");
        return builder.Build();
    }

    [Fact]
    public void Each_attempt_is_guarded_by_a_low_traffic_breaker_and_a_timeout_and_never_retried()
    {
        var options = new DeliveryOptions();

        var descriptor = Build(options).GetPipelineDescriptor();

        Assert.Collection(
            descriptor.Strategies,
            breaker =>
            {
                var breakerOptions = Assert.IsType<HttpCircuitBreakerStrategyOptions>(breaker.Options);
                Assert.Equal(1.0, breakerOptions.FailureRatio);
                Assert.Equal(options.BreakerFailures, breakerOptions.MinimumThroughput);
                Assert.Equal(options.BreakerDuration, breakerOptions.BreakDuration);
            },
            timeout => Assert.Equal(TimeSpan.FromSeconds(15), Assert.IsType<HttpTimeoutStrategyOptions>(timeout.Options).Timeout));
        Assert.DoesNotContain(descriptor.Strategies, s => s.Options is Polly.Retry.RetryStrategyOptions<HttpResponseMessage>);
    }

    [Fact]
    public async Task Five_consecutive_failures_open_the_breaker_and_the_partner_is_listed_open_until_the_break_ends()
    {
        var time = new FakeTimeProvider();
        var breakers = new PartnerBreakers(time);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        PartnerHttp.ConfigurePipeline(builder, new DeliveryOptions(), breakers, "https://partner.example");
        var pipeline = builder.Build();

        for (var i = 0; i < 5; i++)
        {
            await pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable)), TestContext.Current.CancellationToken);
        }

        Assert.Equal(["https://partner.example"], breakers.OpenAuthorities());
        await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
            await pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK)), TestContext.Current.CancellationToken));

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Empty(breakers.OpenAuthorities());
    }

    [Fact]
    public async Task A_partner_whose_trials_keep_failing_is_deferred_twice_as_long_each_time_until_it_answers()
    {
        var time = new FakeTimeProvider();
        var breakers = new PartnerBreakers(time);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        PartnerHttp.ConfigurePipeline(builder, new DeliveryOptions(), breakers, "https://partner.example");
        var pipeline = builder.Build();
        var ct = TestContext.Current.CancellationToken;
        ValueTask<HttpResponseMessage> Answer(System.Net.HttpStatusCode status) => ValueTask.FromResult(new HttpResponseMessage(status));

        for (var i = 0; i < 5; i++)
        {
            await pipeline.ExecuteAsync(_ => Answer(System.Net.HttpStatusCode.ServiceUnavailable), ct);
        }

        // First opening: deferred for the break, 30 s. Each failed trial opens it again: 60 s, 120 s, … at most 15 min.
        Assert.Equal(time.GetUtcNow().AddSeconds(30), breakers.Deferrals()["https://partner.example"].Until);
        foreach (var expected in new[] { 60, 120, 240, 480, 900, 900 })
        {
            time.Advance(TimeSpan.FromSeconds(31));
            Assert.Empty(breakers.Deferrals());
            await pipeline.ExecuteAsync(_ => Answer(System.Net.HttpStatusCode.ServiceUnavailable), ct);
            Assert.Equal(time.GetUtcNow().AddSeconds(expected), breakers.Deferrals()["https://partner.example"].Until);
        }

        // A trial that succeeds closes it; the next outage starts again from the break.
        time.Advance(TimeSpan.FromSeconds(31));
        await pipeline.ExecuteAsync(_ => Answer(System.Net.HttpStatusCode.OK), ct);
        Assert.Empty(breakers.Deferrals());
        for (var i = 0; i < 5; i++)
        {
            await pipeline.ExecuteAsync(_ => Answer(System.Net.HttpStatusCode.ServiceUnavailable), ct);
        }

        Assert.Equal(time.GetUtcNow().AddSeconds(30), breakers.Deferrals()["https://partner.example"].Until);
    }

    [Fact]
    public async Task A_partner_that_does_not_answer_within_the_attempt_timeout_fails_the_attempt()
    {
        var time = new FakeTimeProvider();
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        PartnerHttp.ConfigurePipeline(builder, new DeliveryOptions { AttemptTimeout = TimeSpan.FromSeconds(15) }, new PartnerBreakers(time), "https://slow.example");
        var pipeline = builder.Build();

        var attempt = pipeline.ExecuteAsync(
            async token =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, time, token);
                return new HttpResponseMessage(System.Net.HttpStatusCode.OK);
            },
            TestContext.Current.CancellationToken).AsTask();
        time.Advance(TimeSpan.FromSeconds(16));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => attempt);
    }
}
