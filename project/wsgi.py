import os

from django.core.wsgi import get_wsgi_application

from sagaops.http_edges import ChunkedBodyApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")
application = ChunkedBodyApp(get_wsgi_application())
