/*
 * mkjpeg OUT - write a small JPEG photo with an EXIF APP1 segment that
 * holds a GPS-SECRET marker, for tests/e2e/cdr.sh (the copy must lose it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int
main(int argc, char **argv)
{
	static const char exif[] = "Exif\0\0MM\0*\0\0\0\bGPS-SECRET 35.68N 139.76E";
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	JSAMPLE row[64 * 3];
	JSAMPROW rp = row;
	FILE *fp;
	int x;

	if (argc != 2 || (fp = fopen(argv[1], "wb")) == NULL)
		return 1;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, fp);
	c.image_width = 64;
	c.image_height = 48;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_start_compress(&c, TRUE);
	jpeg_write_marker(&c, JPEG_APP0 + 1, (const JOCTET *)exif,
	    sizeof(exif) - 1);
	while (c.next_scanline < c.image_height) {
		for (x = 0; x < 64; x++) {
			row[x * 3] = (JSAMPLE)(x * 4);
			row[x * 3 + 1] = (JSAMPLE)(c.next_scanline * 5);
			row[x * 3 + 2] = 90;
		}
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return fclose(fp) == 0 ? 0 : 1;
}
