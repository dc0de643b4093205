"""The host function table, used by a plugin the way a partner's plugin
would (tests/plugins/hostcheck.c): its own settings, a one-shot timer, a
repeating timer that cancels itself from its own callback (freed only
after the callback returns: a use-after-free under ASan otherwise), a
Redis command and its reply, and an event without a provider on the
area's stream."""
import os

from servers import AREAS, plugin_dir, plugins_for_tests_dir, wait_for


def test_a_plugin_uses_the_host_api(tmp_path, make_korpud, redis):
    d = tmp_path / "plugins"
    d.mkdir()
    for name in AREAS:
        os.symlink(plugin_dir() / ("%s.so" % name), d / ("%s.so" % name))
    os.symlink(plugins_for_tests_dir() / "hostcheck.so", d / "hostcheck.so")
    k = make_korpud(plugins_dir=d,
                    plugin_confs={"hostcheck": 'ticks = 2;\ngreeting = "salam";\n'},
                    conf={"plugins": {"enabled": list(AREAS) + ["hostcheck"]}})
    k.wait_log(r"plugin hostcheck: greeting: salam", timeout=5)
    k.wait_log(r"plugin hostcheck: one-shot timer fired", timeout=5)
    k.wait_log(r"plugin hostcheck: timer cancels itself after 2 ticks", timeout=10)
    k.wait_log(r"plugin hostcheck: redis PING: type 5, PONG", timeout=5)

    def event():
        with redis.client() as c:
            entries = c.call("XRANGE", "korpu:events:{hostcheck}", "-", "+")
        return entries or None
    entries = wait_for(event, 5, what="the plugin's event")
    assert len(entries) == 1, entries
    fields = entries[0][1]
    record = dict(zip(fields[::2], fields[1::2]))
    assert record[b"type"] == b"hostcheck.done" and record[b"id"] == b"hc-1", record
    assert record[b"area"] == b"hostcheck" and record[b"provider_id"] == b"", record
    assert record[b"at"].endswith(b"Z"), record
    # The timer is gone for good: no tick after the cancel.
    assert k.log_text().count("timer cancels itself") == 1
