-- wrk script for bench/api/run.sh: sends the request in the file $BENCH_REQUEST (a whole
-- HTTP/1.1 request, pre-signed by `load sign`) again and again on every connection, and
-- prints one line "requests=N errors=E rps=R p50_ms=A p99_ms=B" when done. errors counts
-- socket errors and replies that are not HTTP 200 (an API error is a 200 with an "Error"
-- object: the bench checks one reply by hand before the run).
local f = assert(io.open(os.getenv("BENCH_REQUEST"), "rb"))
local req = f:read("*a")
f:close()

request = function()
	return req
end

done = function(summary, latency, requests)
	local e = summary.errors
	local bad = e.connect + e.read + e.write + e.timeout + e.status
	io.write(string.format("requests=%d errors=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
		summary.requests, bad, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
