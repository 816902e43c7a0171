"""The admin site of this project is the operations console."""

from django.contrib import admin

admin.site.site_header = "sagaops console"
admin.site.site_title = "sagaops"
admin.site.index_title = "Operations"
admin.site.site_url = None  # no public site: "View site" would lead nowhere
