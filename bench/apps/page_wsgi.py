"""The bench page as a WSGI app, for Debian's gunicorn (sync workers): the Connection: close anchor."""

PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head><body><h1>Hello</h1>'
    + '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>' * 12
    + '</body></html>'
).encode()
HEADERS = [('Content-Type', 'text/html; charset=utf-8'), ('Content-Length', str(len(PAGE)))]


def app(environ, start_response):
    start_response('200 OK', HEADERS)
    return [PAGE]
